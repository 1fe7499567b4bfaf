#!/usr/bin/env node
// The bin: runs the TypeScript sources through tsx, so `npx avara-fhir-sync` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
