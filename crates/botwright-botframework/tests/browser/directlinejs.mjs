// Interop: botframework-directlinejs from Node (WebSocket stream included) against the embedded
// Direct Line endpoint: generate a token, start, post, receive the replies on the stream, answer a
// suggested action, and read the history with a watermark over REST.
//
// Environment:
//   BASE_URL      the server (required)
//   SAY           the message to send (default "hi")
//   EXPECT_REPLY  a bot message expected after it (required)
//   BUTTON, EXPECT_AFTER_BUTTON  a suggested action to send and the answer (optional)
//   EXPECT_TYPING  "1" when the bot sends a typing indicator (optional)
//   EXPECT_CARD    the title of a hero card expected after the button (optional)
import { createRequire } from 'node:module';
import { need, run } from './chromium.mjs';

const require = createRequire(import.meta.url);
// directlinejs expects a browser: XMLHttpRequest for REST and WebSocket for the stream.
globalThis.XMLHttpRequest = require('xhr2');
globalThis.WebSocket = require('ws');
const { DirectLine, ConnectionStatus } = require('botframework-directlinejs');

const base = need('BASE_URL');
const say = process.env.SAY || 'hi';
const expectReply = need('EXPECT_REPLY');
const button = process.env.BUTTON || '';
const expectAfterButton = button ? need('EXPECT_AFTER_BUTTON') : '';
const expectTyping = process.env.EXPECT_TYPING === '1';
const expectCard = process.env.EXPECT_CARD || '';

function waitFor(observable, predicate, what, ms = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { subscription.unsubscribe(); reject(new Error('timed out waiting for ' + what)); }, ms);
    const subscription = observable.subscribe(
      (value) => { if (predicate(value)) { clearTimeout(timer); subscription.unsubscribe(); resolve(value); } },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

const post = (directLine, activity) => new Promise((resolve, reject) =>
  directLine.postActivity(activity).subscribe(resolve, reject));

run('botframework-directlinejs', async () => {
  const user = { id: 'directlinejs-' + Date.now(), name: 'Node' };
  // A server that lets clients choose takes this id; one that assigns ids refuses it (403) and
  // gives its own (`userId`).
  const generate = (body) => fetch(base + '/v3/directline/tokens/generate', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  let response = await generate({ user });
  if (response.status === 403) response = await generate({});
  const generated = await response.json();
  if (generated.userId) user.id = generated.userId;
  const directLine = new DirectLine({ domain: base + '/v3/directline', token: generated.token, webSocket: true });
  if (!directLine.webSocket) throw new Error('directlinejs did not choose the WebSocket stream');
  const received = [];
  directLine.activity$.subscribe((a) => received.push(a), () => {});
  try {
    await waitFor(directLine.connectionStatus$, (s) => s === ConnectionStatus.Online, 'Online');
    const id = await post(directLine, { type: 'message', from: user, text: say });
    if (!id) throw new Error('postActivity gave no id');
    // Waits for an activity, also one that came already.
    const until = (predicate, what) => {
      const found = received.find(predicate);
      return found ? Promise.resolve(found) : waitFor(directLine.activity$, predicate, what);
    };
    const reply = await until((a) => a.from.id !== user.id && a.text === expectReply, expectReply);
    if (directLine.conversationId !== generated.conversationId) throw new Error('another conversation was started');
    if (!received.some((a) => a.id === id && a.text === say)) throw new Error('the stream did not echo our message');
    if (button) {
      await until((a) => (a.suggestedActions?.actions || []).some((x) => x.value === button), 'the button ' + button);
      await post(directLine, { type: 'message', from: user, text: button });
      const after = await until((a) => a.text === expectAfterButton, expectAfterButton);
      if (expectCard && !(after.attachments || []).some((x) => x.content && x.content.title === expectCard)) {
        throw new Error('no hero card ' + expectCard + ' in ' + JSON.stringify(after));
      }
    }
    if (expectTyping) {
      // Typing indicators are shown live, not kept: ask again now that the stream is surely open.
      const before = received.length;
      await post(directLine, { type: 'message', from: user, text: say });
      await waitFor(directLine.activity$, (a) => a.text === expectReply, expectReply + ' (again)');
      if (!received.slice(before).some((a) => a.type === 'typing')) throw new Error('no typing indicator on the stream');
    }
    // The same history over REST, after the reply's watermark: only what came later.
    const watermark = reply.id.split('|')[1];
    const page = await fetch(`${base}/v3/directline/conversations/${directLine.conversationId}/activities?watermark=${watermark}`,
      { headers: { Authorization: 'Bearer ' + directLine.token } }).then((r) => r.json());
    if (page.activities.some((a) => a.id === reply.id)) throw new Error('the watermark did not exclude the reply');
    console.log(`received ${received.length} activities over the WebSocket`);
  } finally {
    directLine.end();
  }
});
