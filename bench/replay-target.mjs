// Child-process /generate target for bench/replay.bench.ts: answers every request after DELAY_MS
// with a small SGLang-shaped JSON body. Prints its port on stdout, exits when stdin closes.
import http from 'node:http';

const delay = Number(process.env.DELAY_MS ?? '20');
const body = JSON.stringify({ text: 'ok', output_ids: [1, 2], meta_info: { id: 'x', finish_reason: { type: 'length', length: 2 }, prompt_tokens: 3, completion_tokens: 2, cached_tokens: 0, e2e_latency: delay / 1000 } });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), delay));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
