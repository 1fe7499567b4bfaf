import type { ReportMetadata } from '../../avara/schemas.ts';
import type { SeededRandom } from './seeded-random.ts';

const GIVEN = [
  'Adaeze', 'Miriam', 'Tomas', 'Zoë', 'José', 'Siobhán', 'Björn', 'Aisha', 'Wei', 'Priya',
  'Léa', 'Mateus', 'Oluwaseun', 'Hana', 'Grzegorz', 'Fatima', 'Liam', 'Ngozi', 'Søren', 'Elena',
];
const FAMILY = [
  'Okafor', 'Haddad', 'Lindqvist', 'Ñúñez', 'Álvarez', "O'Connor", 'Åkesson', 'Rahman', 'Chen',
  'Patel', 'Dubois', 'Gonçalves', 'Adeyemi', 'Tanaka', 'Wójcik', 'Khalil', 'Murphy', 'Eze', 'Jørgensen', 'Petrova',
];
const FACILITIES = [
  'Riverside Imaging Centre', 'St. Brigid Community Hospital', 'Northgate Diagnostic Clinic',
  'Lakeview Medical Imaging', 'Harbour Point Radiology',
];
const REFERRERS = ['Dr. Tomas Lindqvist', 'Dr. Amara Nwosu', 'Dr. Kenji Mori', 'Dr. Beatriz Rocha', 'Dr. Hélène Marchand'];

export interface GeneratedPatient {
  metadata: ReportMetadata;          // demographics part of reportMetadata (§5.1)
  externalPatientId: string | undefined;
}

/** Demographics in the shapes integrators really send: "Given Family", "Family, Given", accents. */
export function generatePatient(random: SeededRandom, studyDate: Date): GeneratedPatient {
  const given = random.pick(GIVEN);
  const family = random.pick(FAMILY);
  const patientName = random.chance(0.3) ? `${family}, ${given}` : `${given} ${family}`;
  const birth = new Date(Date.UTC(random.int(1935, 2018), random.int(0, 11), random.int(1, 28)));
  const metadata: ReportMetadata = {
    patientName,
    mrn: `H-${random.digits(8)}`,
    dateOfBirth: birth.toISOString().slice(0, 10),
    age: `${ageInYears(birth, studyDate)} years`,
    sex: random.pick(['female', 'male', 'female', 'male', 'other']),
    facilityName: random.pick(FACILITIES),
    referringPhysicianName: random.pick(REFERRERS),
  };
  if (random.chance(0.6)) {
    metadata.height = { unit: 'cm', value: random.int(150, 195) };
    metadata.weight = { unit: 'kg', value: random.int(450, 1200) / 10 };
  }
  const externalPatientId = random.chance(0.5) ? `PT-${random.digits(7)}` : undefined;
  return { metadata, externalPatientId };
}

function ageInYears(birth: Date, at: Date): number {
  const years = at.getUTCFullYear() - birth.getUTCFullYear();
  const hadBirthday =
    at.getUTCMonth() > birth.getUTCMonth() ||
    (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() >= birth.getUTCDate());
  return Math.max(0, hadBirthday ? years : years - 1);
}
