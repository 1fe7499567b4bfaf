import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { validateDeliveryBundle } from '../src/fhir/validate-resource.ts';
import { mappingOptions } from './fixtures/mapping-fixtures.ts';
import { MAPPING_SCENARIOS } from './fixtures/mapping-scenarios.ts';
import { expectGolden } from './support/expect-golden.ts';

describe('delivery bundle golden files', () => {
  for (const scenario of MAPPING_SCENARIOS) {
    it(`maps ${scenario.title} to the bundle in ${scenario.golden}, which FHIR R4 validation accepts`, () => {
      const bundle = buildDeliveryBundle(scenario.input(), mappingOptions());
      expectGolden(scenario.golden, bundle);
      expect(() => validateDeliveryBundle(bundle)).not.toThrow();
    });
  }
});
