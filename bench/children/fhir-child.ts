import { startFhirServer } from '../../src/standins/fhir-store/start-fhir-server.ts';
import { memoryStorageOf } from '../../src/standins/fhir-store/memory-storage.ts';
import { serveRpc } from '../child-rpc.ts';
import { pinSelfAsEhr } from '../pin-cores.ts';

// The embedded FHIR store in a process of its own, on a core of its own when the run is pinned,
// as an EHR's server would be.
pinSelfAsEhr();
const server = await startFhirServer({ port: 0 });
const storage = memoryStorageOf(server.repository);
serveRpc({ baseUrl: server.baseUrl }, {
  count: (resourceType: string) => storage.resources.get(resourceType)?.size ?? 0,
});
