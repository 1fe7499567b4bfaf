import type { SeededRandom } from './seeded-random.ts';
import { isoSeconds, type SandboxUser } from './sandbox-types.ts';

const RADIOLOGISTS: ReadonlyArray<readonly [string, string]> = [
  ['Miriam', 'Haddad'], ['Kwame', 'Mensah'], ['Ingrid', 'Solberg'], ['Rafael', 'Quiñones'], ['Yuki', 'Nakamura'],
];

/** The reading radiologists: users who can sign, each with a 10-digit NPI (§9.6). */
export function generateRadiologists(random: SeededRandom, now: Date): SandboxUser[] {
  return RADIOLOGISTS.map(([firstName, lastName]) => ({
    userId: `usr_${random.hex(32)}`,
    email: `${firstName.toLowerCase()}.${asciiOnly(lastName).toLowerCase()}@riverside-rad.example`,
    firstName,
    lastName,
    suffix1: 'MD',
    npiNumber: `1${random.digits(9)}`,
    clinicRole: 'Radiologist',
    level: 'member',
    canCreateReports: true,
    canManageStudies: false,
    hasDashboardAccess: true,
    invitedSource: 'api',
    createdAt: isoSeconds(new Date(now.getTime() - random.int(200, 900) * 86_400_000)),
    lastLoginAt: isoSeconds(new Date(now.getTime() - random.int(1, 48) * 3_600_000)),
  }));
}

function asciiOnly(text: string): string {
  return text.normalize('NFD').replace(/[^A-Za-z]/g, '');
}

export function displayName(user: SandboxUser): string {
  return `${user.firstName} ${user.lastName}${user.suffix1 ? `, ${user.suffix1}` : ''}`;
}
