// The Bot Builder v3 reference of `botwright notify`: one text to every address of a JSON Lines
// file, with botbuilder 3.30.0's `UniversalBot.send`, at most CONCURRENCY (default 64) sends at a
// time (v3 has no outbox: a send that fails is reported, not retried). Exits 0 once every send
// succeeded, 1 otherwise.
//
//   node notify.js ADDRESSES.jsonl [TEXT]
'use strict';

const builder = require('botbuilder');
const fs = require('fs');

const [file, text = 'Release 1.2 is out'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node notify.js ADDRESSES.jsonl [TEXT]');
  process.exit(64);
}
const concurrency = Number(process.env.CONCURRENCY || 64);

// v3 logs per message on the emulator channel; keep the console quiet.
if (!process.env.BENCH_VERBOSE) {
  console.log = () => {};
  console.info = () => {};
  console.warn = () => {};
}

const connector = new builder.ChatConnector({});
const bot = new builder.UniversalBot(connector, { storage: new builder.MemoryBotStorage() });

const addresses = fs
  .readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => {
    const value = JSON.parse(line);
    return value.address || value;
  });

let next = 0;
let delivered = 0;
let failed = 0;
let running = 0;

function sendNext() {
  while (running < concurrency && next < addresses.length) {
    const address = addresses[next++];
    running += 1;
    bot.send(new builder.Message().address(address).text(text), (err) => {
      running -= 1;
      if (err) failed += 1;
      else delivered += 1;
      if (next < addresses.length) sendNext();
      else if (running === 0) finish();
    });
  }
}

function finish() {
  process.stdout.write(JSON.stringify({ total: addresses.length, delivered, failed }) + '\n');
  process.exit(failed === 0 ? 0 : 1);
}

if (addresses.length === 0) finish();
else sendNext();
