/** DICOM Study Instance UIDs in FHIR identifiers: this system, the UID as an OID (`urn:oid:` prefix). */
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
