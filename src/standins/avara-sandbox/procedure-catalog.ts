/** What the sandbox can "scan": the procedure as shown in the report header and its sections' phrases. */
export interface ProcedureTemplate {
  procedure: string;        // reportMetadata.procedure
  description: string;      // studyDescription
  modality: string;
  indications: readonly string[];
  technique: string;
  findings: Readonly<Record<string, readonly string[]>>;   // heading -> sentences to pick from
  impressions: readonly string[];
}

export const PROCEDURES: readonly ProcedureTemplate[] = [
  {
    procedure: 'CT Chest without contrast', description: 'Chest CT', modality: 'CT',
    indications: ['Persistent cough for six weeks.', 'Follow-up of a pulmonary nodule.', 'Shortness of breath on exertion.'],
    technique: 'Axial images were acquired from the thoracic inlet to the upper abdomen without intravenous contrast. Multiplanar reformats were reviewed. Dose reduction techniques were used, including automated exposure control.',
    findings: {
      LUNGS: ['The lungs are clear without focal consolidation.', 'There is a 4 mm solid nodule in the right upper lobe, unchanged.', 'Mild dependent atelectasis is present at both bases.', 'No interstitial thickening or honeycombing.'],
      PLEURA: ['No pleural effusion or pneumothorax.', 'Minimal apical pleural thickening bilaterally.'],
      MEDIASTINUM: ['The heart is normal in size. No pericardial effusion.', 'No mediastinal or hilar lymphadenopathy by size criteria.', 'The thoracic aorta is normal in calibre.'],
      'BONES AND SOFT TISSUES': ['Mild degenerative changes of the thoracic spine.', 'No suspicious osseous lesion.'],
    },
    impressions: ['No acute cardiopulmonary abnormality.', 'Stable 4 mm right upper lobe nodule; no further follow-up is required per current guidelines.', 'Mild bibasilar atelectasis.'],
  },
  {
    procedure: 'MRI Brain with contrast', description: 'Brain MRI', modality: 'MR',
    indications: ['Headaches with visual disturbance.', 'New onset seizure.', 'Follow-up of a known meningioma.'],
    technique: 'Multiplanar, multisequence MR imaging of the brain was performed before and after intravenous administration of gadolinium-based contrast, including diffusion-weighted and susceptibility-weighted sequences.',
    findings: {
      PARENCHYMA: ['No restricted diffusion to suggest acute infarction.', 'Scattered punctate T2 hyperintensities in the periventricular white matter, likely chronic small vessel change.', 'No abnormal parenchymal enhancement.'],
      'VENTRICLES AND EXTRA-AXIAL SPACES': ['The ventricles are normal in size and configuration.', 'No extra-axial collection.', 'A 9 mm extra-axial enhancing lesion along the left frontal convexity is unchanged.'],
      VESSELS: ['Normal flow voids are present in the major intracranial arteries.', 'The dural venous sinuses enhance normally.'],
      'ORBITS AND SINUSES': ['The orbits are unremarkable.', 'Mild mucosal thickening in the maxillary sinuses.'],
    },
    impressions: ['No acute intracranial abnormality.', 'Stable small left frontal convexity meningioma.', 'Mild chronic small vessel ischaemic change.'],
  },
  {
    procedure: 'XR Chest 2 views', description: 'Chest X-ray', modality: 'DX',
    indications: ['Fever and cough.', 'Preoperative assessment.', 'Chest pain.'],
    technique: 'Frontal and lateral radiographs of the chest were obtained in the upright position.',
    findings: {
      LUNGS: ['The lungs are clear.', 'Subtle opacity at the left base, possibly atelectasis.', 'No pulmonary oedema.'],
      'HEART AND MEDIASTINUM': ['Cardiomediastinal silhouette is within normal limits.', 'The aortic knob is mildly calcified.'],
      'PLEURA AND BONES': ['No pleural effusion or pneumothorax.', 'No acute osseous abnormality.'],
    },
    impressions: ['No acute cardiopulmonary process.', 'Possible left basilar atelectasis; consider follow-up if symptoms persist.'],
  },
  {
    procedure: 'US Abdomen complete', description: 'Abdominal ultrasound', modality: 'US',
    indications: ['Right upper quadrant pain.', 'Abnormal liver function tests.', 'Follow-up of renal cyst.'],
    technique: 'Real-time grey-scale and colour Doppler sonography of the abdomen was performed.',
    findings: {
      LIVER: ['The liver is normal in size with increased echogenicity, compatible with steatosis.', 'No focal hepatic lesion.'],
      'GALLBLADDER AND BILE DUCTS': ['Several mobile gallstones without wall thickening.', 'The common bile duct measures 4 mm.'],
      'PANCREAS AND SPLEEN': ['The visualised pancreas is unremarkable.', 'The spleen measures 10.5 cm, normal in size.'],
      KIDNEYS: ['Both kidneys are normal in size without hydronephrosis.', 'A 1.8 cm simple cyst in the lower pole of the left kidney, unchanged.'],
    },
    impressions: ['Cholelithiasis without sonographic evidence of acute cholecystitis.', 'Hepatic steatosis.', 'Simple left renal cyst, no follow-up needed.'],
  },
  {
    procedure: 'CT Abdomen and Pelvis with contrast', description: 'CT Abdomen/Pelvis', modality: 'CT',
    indications: ['Left lower quadrant pain and fever.', 'Staging of colorectal carcinoma.', 'Unexplained weight loss.'],
    technique: 'Helical CT of the abdomen and pelvis was performed after intravenous contrast in the portal venous phase. Oral contrast was not administered. Coronal and sagittal reformats were reviewed.',
    findings: {
      'LOWER CHEST': ['The lung bases are clear.'],
      'HEPATOBILIARY': ['No focal liver lesion. The gallbladder is unremarkable.', 'No biliary dilatation.'],
      BOWEL: ['Sigmoid diverticulosis with focal wall thickening and pericolic fat stranding.', 'The appendix is normal.', 'No bowel obstruction.'],
      'LYMPH NODES AND VESSELS': ['No lymphadenopathy.', 'The abdominal aorta is normal in calibre.'],
      'PELVIS': ['The bladder is unremarkable.', 'No free fluid in the pelvis.'],
    },
    impressions: ['Acute uncomplicated sigmoid diverticulitis.', 'No abscess or free air.'],
  },
  {
    procedure: 'MRI Lumbar Spine without contrast', description: 'Lumbar spine MRI', modality: 'MR',
    indications: ['Low back pain radiating to the left leg.', 'Numbness in both feet.'],
    technique: 'Sagittal T1, T2 and STIR with axial T2-weighted images of the lumbar spine were obtained without contrast.',
    findings: {
      ALIGNMENT: ['Normal lumbar lordosis. No spondylolisthesis.'],
      'VERTEBRAL BODIES': ['Vertebral body heights are preserved.', 'No marrow oedema.'],
      'DISC LEVELS': ['L4-L5: broad-based disc bulge with a left paracentral protrusion contacting the traversing left L5 nerve root.', 'L5-S1: mild facet arthropathy without canal stenosis.'],
      CONUS: ['The conus terminates normally at L1.'],
    },
    impressions: ['L4-L5 left paracentral disc protrusion contacting the left L5 nerve root, correlating with symptoms.', 'Mild lower lumbar facet arthropathy.'],
  },
];

/** Generic sentences that pad a report to a realistic length without changing its meaning. */
export const GENERAL_REMARKS: readonly string[] = [
  'Image quality is adequate for diagnostic interpretation.',
  'Comparison was made with the prior examination where available; no interval change is identified unless stated.',
  'The findings were reviewed in the context of the clinical information provided on the requisition.',
  'Incidental findings are described above and do not require further imaging unless clinically indicated.',
  'Measurements were obtained on the axial images unless otherwise specified.',
  'Correlation with clinical examination and laboratory values is recommended.',
  'This report was dictated with speech recognition software and reviewed by the signing radiologist.',
  'Patient positioning and motion did not limit the evaluation of the structures of interest.',
  'No contrast reaction or other adverse event was reported by the technologist during the examination.',
  'Structures at the edge of the field of view are only partially assessed.',
  'If clinical concern persists despite these findings, further evaluation with an alternative modality may be considered.',
  'Reference ranges used in this report follow the departmental protocol current at the time of reading.',
  'The referring clinician may contact the reading room directly with any questions about this examination.',
  'Images are available for review in the enterprise viewer.',
  'Prior imaging from outside institutions was not available at the time of this interpretation.',
  'The examination was protocolled by the radiologist according to the indication on the order.',
  'Any discrepancy with a preliminary report will be communicated to the ordering team directly.',
  'Anatomical variants noted during the review are of no clinical significance.',
  'Where a finding is described as stable, stability refers to the most recent comparable examination.',
  'Recommendations in this report follow the relevant society guidelines for incidental findings.',
  'Please note that small lesions below the resolution of this technique cannot be excluded.',
  'The patient identity was verified against two identifiers before the examination began.',
];
