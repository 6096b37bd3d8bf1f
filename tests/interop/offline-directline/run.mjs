// Drives a botwright bot through offline-directline, a real (unofficial) Direct Line + connector
// service, and checks a whole conversation as a Direct Line client sees it.
//
//   node run.mjs <botUrl> <notifyUrl>
//
//   botUrl     the bot's messages endpoint, e.g. http://127.0.0.1:3978/api/messages
//   notifyUrl  the bot's notify hook, e.g. http://127.0.0.1:3978/api/notify; the subscriptions
//              hook is read from the same origin (/api/subscriptions)
//
// The bot is the `proactive_webhook` example. The script starts offline-directline through its
// library API on a free port, opens a conversation, greets the bot, answers its prompts (one
// invalid answer included), reads the address the bot stored, has the bot send a proactive
// message to it through the notify hook, and polls the conversation until each expected bot
// message arrives or a timeout passes. It does so twice: first as a plain Direct Line client
// written here with fetch (every request and watermark checked), then with Microsoft's own client
// library, botframework-directlinejs (what Web Chat uses), in a second conversation.
//
// Exit code 0: every check passed. 1: a check failed (the message says which, and the transcript
// so far is printed). 2: wrong usage or offline-directline could not start.

import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const express = require('express');
const { initializeRoutes } = require('offline-directline');
// botframework-directlinejs polls through rxjs 5's ajax, which needs XMLHttpRequest: Node has none.
global.XMLHttpRequest = require('xhr2');
const { DirectLine, ConnectionStatus } = require('botframework-directlinejs');

// How long to wait for each expected bot message, and for each HTTP request.
const STEP_TIMEOUT_MS = Number(process.env.INTEROP_STEP_TIMEOUT_MS || 20000);
const REQUEST_TIMEOUT_MS = 15000;
const POLL_INTERVAL_MS = 100;

const transcript = [];

function log(line) {
  console.log(line);
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  if (transcript.length > 0) {
    console.error('Transcript so far:');
    for (const line of transcript) console.error(`  ${line}`);
  }
  process.exit(1);
}

// offline-directline forwards each client request to the bot with a promise it never catches:
// if the bot cannot be reached, that rejection would kill this process (Node >= 15). Report it
// instead; the step waiting for the bot then fails with its own message.
process.on('unhandledRejection', (reason) => {
  console.error(`offline-directline: unhandled rejection: ${reason && reason.stack ? reason.stack : reason}`);
});
process.on('uncaughtException', (error) => {
  fail(`uncaught exception: ${error && error.stack ? error.stack : error}`);
});

const [botUrl, notifyUrl] = process.argv.slice(2);
if (!botUrl || !notifyUrl) {
  console.error('usage: node run.mjs <botUrl> <notifyUrl>');
  process.exit(2);
}
const subscriptionsUrl = new URL('/api/subscriptions', notifyUrl).toString();

/** A port that was free a moment ago (offline-directline needs a number, not 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** fetch with a timeout; resolves to {status, text, json}. */
async function request(method, url, body) {
  const init = { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new Error(`${method} ${url} failed: ${error.cause ? error.cause.message || error.cause : error.message}`);
  }
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  // 1. offline-directline on a free port. Its service URL (what the bot replies to) is
  //    http://127.0.0.1:<port>.
  const port = await freePort();
  const app = express();
  initializeRoutes(app, port, botUrl);
  const directline = `http://127.0.0.1:${port}/directline`;
  const serviceUrl = `http://127.0.0.1:${port}`;

  // 2. Open a conversation: offline-directline tells the bot (a conversationUpdate) and answers
  //    with the bot's status. It may still be starting to listen: retry refused connections.
  let opened;
  for (let attempt = 1; ; attempt++) {
    try {
      opened = await request('POST', `${directline}/conversations`);
      break;
    } catch (error) {
      if (attempt >= 50) fail(`offline-directline did not start on port ${port}: ${error.message}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }
  if (opened.status < 200 || opened.status > 299 || !opened.json || !opened.json.conversationId) {
    fail(`opening a conversation answered ${opened.status} ${opened.text} (the bot's answer to conversationUpdate)`);
  }
  const conversationId = opened.json.conversationId;
  log(`conversation ${conversationId} open (bot answered conversationUpdate with ${opened.status})`);

  const user = { id: `user-${process.pid}-${Date.now()}`, name: 'Ana' };
  let watermark = 0;
  const pending = []; // bot messages received but not yet checked

  async function say(text) {
    transcript.push(`user> ${text}`);
    const sent = await request('POST', `${directline}/conversations/${conversationId}/activities`, {
      type: 'message',
      from: user,
      text,
      localTimestamp: new Date().toISOString(),
    });
    if (sent.status < 200 || sent.status > 299) {
      fail(`posting "${text}" answered ${sent.status} ${sent.text} (offline-directline passes on the bot's status)`);
    }
  }

  /** The next message from the bot, polled from the conversation's history. */
  async function nextBotMessage(what) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (pending.length === 0) {
      const polled = await request('GET', `${directline}/conversations/${conversationId}/activities?watermark=${watermark}`);
      if (polled.status !== 200 || !polled.json || !Array.isArray(polled.json.activities)) {
        fail(`polling activities answered ${polled.status} ${polled.text}`);
      }
      watermark = polled.json.watermark;
      for (const activity of polled.json.activities) {
        // The history holds the user's own messages too, and may hold typing indicators.
        if (activity.type === 'message' && (!activity.from || activity.from.id !== user.id)) {
          pending.push(activity);
        }
      }
      if (pending.length > 0) break;
      if (Date.now() > deadline) {
        fail(`no bot message within ${STEP_TIMEOUT_MS} ms; expected ${what}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
    const activity = pending.shift();
    transcript.push(`bot>  ${activity.text}${buttons(activity).length ? `   [${buttons(activity).join('] [')}]` : ''}`);
    return activity;
  }

  function buttons(activity) {
    return ((activity.suggestedActions && activity.suggestedActions.actions) || []).map((a) => a.title);
  }

  async function expectBot(text, expectedButtons) {
    const activity = await nextBotMessage(JSON.stringify(text));
    if (activity.text !== text) {
      fail(`expected the bot to say ${JSON.stringify(text)}, it said ${JSON.stringify(activity.text)}`);
    }
    if (activity.conversation && activity.conversation.id !== conversationId) {
      fail(`a reply went to conversation ${activity.conversation.id}, expected ${conversationId}`);
    }
    if (expectedButtons) {
      const got = buttons(activity);
      if (JSON.stringify(got) !== JSON.stringify(expectedButtons)) {
        fail(`expected buttons ${JSON.stringify(expectedButtons)} with ${JSON.stringify(text)}, got ${JSON.stringify(got)}`);
      }
    }
    return activity;
  }

  // 3. The conversation: greeting, text prompt, choice prompt (one invalid answer), confirmation.
  const topics = ['news', 'weather', 'sports'];
  await say('hi');
  await expectBot('Hello! I send alerts when something happens.');
  await expectBot('What is your name?');
  await say('Ana');
  await expectBot('Which alerts would you like, Ana?', topics);
  await say('tomorrow');
  await expectBot("I didn't understand. Please choose an option from the list.", topics);
  await say('weather');
  await expectBot('Thanks, Ana! You will get weather alerts here.');

  // 4. The address the bot stored for this user.
  const listed = await request('GET', subscriptionsUrl);
  if (listed.status !== 200 || !Array.isArray(listed.json)) {
    fail(`GET ${subscriptionsUrl} answered ${listed.status} ${listed.text}`);
  }
  const subscription = listed.json.find((s) => s.userId === user.id);
  if (!subscription) fail(`no subscription for ${user.id} in ${listed.text}`);
  const address = subscription.address;
  const problems = [];
  if (subscription.name !== 'Ana') problems.push(`name ${JSON.stringify(subscription.name)}`);
  if (subscription.topic !== 'weather') problems.push(`topic ${JSON.stringify(subscription.topic)}`);
  if (address.channelId !== 'emulator') problems.push(`channelId ${JSON.stringify(address.channelId)}`);
  if (address.serviceUrl !== serviceUrl) problems.push(`serviceUrl ${JSON.stringify(address.serviceUrl)}`);
  if (!address.conversation || address.conversation.id !== conversationId) problems.push('conversation.id');
  if (!address.user || address.user.id !== user.id) problems.push('user.id');
  if (problems.length) fail(`the stored subscription is wrong (${problems.join(', ')}): ${JSON.stringify(subscription)}`);
  log(`stored address: ${JSON.stringify(address)}`);

  // 5. A proactive message, sent from outside the conversation through the notify hook.
  const alert = `Storm warning for tonight (${Date.now()})`;
  const notified = await request('POST', notifyUrl, { address, text: alert });
  if (notified.status !== 200 || !notified.json || !('id' in notified.json)) {
    fail(`POST ${notifyUrl} answered ${notified.status} ${notified.text}; expected 200 {"id"}`);
  }
  await expectBot(alert);

  // The address may also come as a string holding its JSON.
  const second = 'Clear skies again.';
  const notifiedAgain = await request('POST', notifyUrl, { address: JSON.stringify(address), text: second });
  if (notifiedAgain.status !== 200) fail(`notify with a string address answered ${notifiedAgain.status} ${notifiedAgain.text}`);
  await expectBot(second);

  // 6. The hook reports what went wrong. offline-directline answers 400 for a conversation it
  //    does not know: the bot must say it was not delivered.
  const unknown = { ...address, conversation: { id: 'no-such-conversation' } };
  const refused = await request('POST', notifyUrl, { address: unknown, text: 'lost' });
  if (refused.status !== 500 || !refused.json || typeof refused.json.error !== 'string' || !refused.json.error.includes('400')) {
    fail(`notify to an unknown conversation answered ${refused.status} ${refused.text}; expected 500 with the channel's 400`);
  }
  log(`unknown conversation reported: ${refused.json.error}`);
  const invalid = await request('POST', notifyUrl, { address: { channelId: 'emulator' }, text: 'x' });
  if (invalid.status !== 400) fail(`notify without a usable address answered ${invalid.status} ${invalid.text}; expected 400`);
  const notJson = await request('POST', notifyUrl, 'not json');
  if (notJson.status !== 400) fail(`notify with a body that is not JSON answered ${notJson.status}; expected 400`);

  // Nothing else arrived in the conversation (no duplicate, no stray message).
  const last = await request('GET', `${directline}/conversations/${conversationId}/activities?watermark=${watermark}`);
  const stray = (last.json && last.json.activities || []).filter((a) => a.type === 'message' && (!a.from || a.from.id !== user.id));
  if (pending.length > 0 || stray.length > 0) {
    fail(`unexpected bot messages: ${JSON.stringify([...pending, ...stray].map((a) => a.text))}`);
  }

  log('Transcript (fetch client):');
  for (const line of transcript) log(`  ${line}`);
  transcript.length = 0;

  // 7. The same conversation through botframework-directlinejs. Its default domain is the
  //    service's `/v3/directline`; offline-directline serves `/directline`, so give the domain.
  //    No WebSocket (offline-directline has no stream): it polls. It needs a WebSocket class
  //    only to exist.
  await officialClient(directline, serviceUrl, topics);
  log('Transcript (botframework-directlinejs):');
  for (const line of transcript) log(`  ${line}`);

  log('PASS: greeting, text prompt, choice prompt with retry, stored address, proactive notify, error reports; ' +
    'and the same through botframework-directlinejs');
  // offline-directline keeps a cleanup timer running: leave explicitly.
  process.exit(0);
}

/** A conversation driven by botframework-directlinejs. */
async function officialClient(directline, serviceUrl, topics) {
  const user = { id: `lib-user-${process.pid}-${Date.now()}`, name: 'Ben' };
  const client = new DirectLine({
    domain: directline,
    webSocket: false,
    WebSocket: class NoWebSocket {},
    pollingInterval: 200,
    timeout: REQUEST_TIMEOUT_MS,
  });
  const received = [];
  let clientError;
  const statuses = [];
  client.connectionStatus$.subscribe((status) => statuses.push(ConnectionStatus[status]));
  const activities = client.activity$.subscribe(
    (activity) => {
      if (activity.type === 'message' && (!activity.from || activity.from.id !== user.id)) received.push(activity);
    },
    (error) => {
      clientError = error;
    },
  );

  const say = (text) =>
    new Promise((resolve, reject) => {
      transcript.push(`user> ${text}`);
      client.postActivity({ type: 'message', from: user, text, localTimestamp: new Date().toISOString() }).subscribe(
        (id) => (id === 'retry' ? reject(new Error(`posting "${text}" failed (the client says "retry")`)) : resolve(id)),
        (error) => reject(new Error(`posting "${text}" failed: status ${error && error.status} ${error && error.message}`)),
      );
    });

  async function expectBot(text, expectedButtons) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (received.length === 0) {
      if (clientError) fail(`botframework-directlinejs failed: ${clientError.message || clientError}`);
      if (Date.now() > deadline) {
        fail(`botframework-directlinejs: no bot message within ${STEP_TIMEOUT_MS} ms; expected ${JSON.stringify(text)} ` +
          `(connection: ${statuses.join(' -> ')})`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
    const activity = received.shift();
    const got = ((activity.suggestedActions && activity.suggestedActions.actions) || []).map((a) => a.title);
    transcript.push(`bot>  ${activity.text}${got.length ? `   [${got.join('] [')}]` : ''}`);
    if (activity.text !== text) {
      fail(`botframework-directlinejs: expected the bot to say ${JSON.stringify(text)}, it said ${JSON.stringify(activity.text)}`);
    }
    if (expectedButtons && JSON.stringify(got) !== JSON.stringify(expectedButtons)) {
      fail(`botframework-directlinejs: expected buttons ${JSON.stringify(expectedButtons)}, got ${JSON.stringify(got)}`);
    }
  }

  try {
    await say('hello');
    await expectBot('Hello! I send alerts when something happens.');
    await expectBot('What is your name?');
    await say('Ben');
    await expectBot('Which alerts would you like, Ben?', topics);
    await say('1');
    await expectBot('Thanks, Ben! You will get news alerts here.');
  } catch (error) {
    fail(error.message);
  }
  const conversationId = client.conversationId;

  const listed = await request('GET', subscriptionsUrl);
  const subscription = Array.isArray(listed.json) && listed.json.find((s) => s.userId === user.id);
  if (!subscription) fail(`no subscription for ${user.id} in ${listed.text}`);
  if (subscription.address.conversation.id !== conversationId || subscription.address.serviceUrl !== serviceUrl) {
    fail(`the stored address is not this conversation's: ${JSON.stringify(subscription.address)}`);
  }
  const alert = `Breaking news (${Date.now()})`;
  const notified = await request('POST', notifyUrl, { address: subscription.address, text: alert });
  if (notified.status !== 200) fail(`POST ${notifyUrl} answered ${notified.status} ${notified.text}; expected 200`);
  await expectBot(alert);

  activities.unsubscribe();
  client.end();
  if (received.length > 0) fail(`unexpected bot messages: ${JSON.stringify(received.map((a) => a.text))}`);
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
