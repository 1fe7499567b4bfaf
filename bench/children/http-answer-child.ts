import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { serveRpc } from '../child-rpc.ts';
import { pinSelfAsEhr } from '../pin-cores.ts';

// Answers as Avara and the FHIR store answer a delivery, without their work: a small JSON for
// any GET, a 200 KB PDF at /pdf, and a small JSON after reading any POST body. In its own process
// (on the EHR core when pinned), so that only the HTTP client's CPU is counted on the bench side.
pinSelfAsEhr();
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(200_000)]);
const small = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id: 'p1', identifier: [{ system: 'urn:mrn', value: 'H-1' }] } }] });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url === '/pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': pdf.length });
      res.end(pdf);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(small) });
      res.end(small);
    }
  });
});
server.listen(0, '127.0.0.1', () => serveRpc({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }, {}));
