/**
 * A stand-in for a VuFind Solr core's `/update` handler on 127.0.0.1: it reads each request's
 * update commands, refuses (HTTP 400, as Solr does) a document with a field VuFind's biblio
 * schema does not declare or one that is a copyField target, and keeps the documents it accepted
 * and the ids it was asked to delete. It can answer the next requests with 503 to exercise retries.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fieldsVufindRefuses, parseSolrCommands, readVufindFields } from './solr-commands.js';

export interface FakeSolr {
  /** The core's URL, as given to `--post`. */
  url: string;
  docs: Map<string, Record<string, unknown>>;
  deletes: string[];
  requests: { path: string; commitWithin: string | null }[];
  /** Fields refused so far (each refusal also answered 400). */
  refused: string[];
  /** The next `count` requests get 503 with `Retry-After: 0`. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startFakeSolr(): Promise<FakeSolr> {
  const fields = readVufindFields();
  let failures = 0;
  const solr: Omit<FakeSolr, 'url' | 'close' | 'failNext'> = { docs: new Map(), deletes: [], requests: [], refused: [] };

  const answer = (response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    let body = '';
    for await (const chunk of request) body += String(chunk);
    solr.requests.push({ path: url.pathname, commitWithin: url.searchParams.get('commitWithin') });
    if (failures > 0) {
      failures -= 1;
      return answer(response, 503, { error: { msg: 'Solr is starting', code: 503 } }, { 'retry-after': '0' });
    }
    if (request.method !== 'POST' || url.pathname !== '/solr/biblio/update') return answer(response, 404, { error: { msg: `no handler ${url.pathname}` } });
    const commands = parseSolrCommands(body);
    for (const command of commands) {
      if (!('add' in command)) continue;
      const refused = fieldsVufindRefuses(command.add.doc, fields);
      if (refused.length > 0) {
        solr.refused.push(...refused);
        return answer(response, 400, { error: { msg: `ERROR: [doc=${String(command.add.doc.id)}] unknown field '${refused[0]}'`, code: 400 } });
      }
    }
    for (const command of commands) {
      if ('add' in command) solr.docs.set(String(command.add.doc.id), command.add.doc);
      else {
        solr.deletes.push(command.delete.id);
        solr.docs.delete(command.delete.id);
      }
    }
    answer(response, 200, { responseHeader: { status: 0, QTime: 1 } });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => answer(response, 500, { error: { msg: error.message } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    ...solr,
    url: `http://127.0.0.1:${port}/solr/biblio`,
    failNext: (count) => void (failures = count),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
