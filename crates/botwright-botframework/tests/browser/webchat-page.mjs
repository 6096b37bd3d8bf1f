// The built-in web chat page in headless Chromium: join with a name, type a message, see the
// bot's answer, click a suggested action, receive a proactive message fired through the web hook
// panel (POST /api/notify), run a standup from the panel and read its report, save a screenshot; then reload (the conversation is picked up again)
// and, with WebSockets refused, receive a proactive message by polling.
//
// Environment (defaults fit the Rust test server; set them for `botwright serve`):
//   BASE_URL           the server, e.g. http://127.0.0.1:3978 (required)
//   SAY                the first message (default "hi")
//   EXPECT_REPLY       a bot message expected after it (required)
//   BUTTON             a suggested action to click (optional; skipped when empty)
//   EXPECT_AFTER_BUTTON  the bot message expected after the click (required with BUTTON)
//   EXPECT_TYPING      "1" when the bot sends a typing indicator before its reply (optional)
//   EXPECT_CARD        the title of a hero card expected after the click (optional)
//   SUBSCRIBE          a message that makes the bot list the user in GET /api/subscriptions
//                      (optional, e.g. "subscribe" for `botwright serve`)
//   NOTIFICATION       the proactive text to send (default "Proactive hello from the web hook")
//   STANDUP            "0" to skip the standup (POST /api/standup, GET /api/standup/{id}) (default on)
//   SCREENSHOT         where to save the screenshot (default target/webchat.png)
//   EVICT              "1" when the server holds one conversation only: checks the page reconnects
//                      after its conversation is dropped (optional)
import { launch, need, run } from './chromium.mjs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const base = need('BASE_URL');
const say = process.env.SAY || 'hi';
const expectReply = need('EXPECT_REPLY');
const button = process.env.BUTTON || '';
const expectAfterButton = button ? need('EXPECT_AFTER_BUTTON') : '';
const subscribe = process.env.SUBSCRIBE || '';
const expectTyping = process.env.EXPECT_TYPING === '1';
const expectCard = process.env.EXPECT_CARD || '';
const notification = process.env.NOTIFICATION || 'Proactive hello from the web hook';
const screenshot = process.env.SCREENSHOT || 'target/webchat.png';
// The sample's standup texts (SAMPLE.md); STANDUP=0 skips the standup.
const standup = process.env.STANDUP !== '0';
const STANDUP_QUESTION = 'What is your status for today?';
const STANDUP_THANKS = 'Got it... Thanks!';
const WAIT = { timeout: 15000 };

run('web chat page', async () => {
  const { page, close } = await launch();
  try {
    const name = 'Ana ' + Date.now();
    await page.goto(base + '/');
    await page.fill('#name', name);
    await page.click('#join button[type=submit]');
    await page.locator('#compose').waitFor(WAIT);
    await page.locator('#status', { hasText: 'WebSocket' }).waitFor(WAIT);

    const botSays = (text) => page.locator('#transcript li[data-role=bot] .text', { hasText: text }).first()
      .waitFor(WAIT);
    // Notes whether the typing indicator ever shows (it hides again when the reply comes).
    await page.evaluate(() => {
      const typing = document.getElementById('typing');
      new MutationObserver(() => { if (!typing.hidden) window.typingShown = true; })
        .observe(typing, { attributes: true });
    });
    await page.fill('#message', say);
    await page.press('#message', 'Enter');
    await page.locator('#transcript li[data-role=user] .text', { hasText: say }).first().waitFor(WAIT);
    await botSays(expectReply);
    if (expectTyping && !(await page.evaluate(() => window.typingShown))) {
      throw new Error('the typing indicator never showed');
    }

    if (button) {
      const action = page.locator('#suggested button', { hasText: button });
      await action.waitFor(WAIT);
      await action.click();
      await page.locator('#transcript li[data-role=user] .text', { hasText: button }).first().waitFor(WAIT);
      await botSays(expectAfterButton);
      if (expectCard) await page.locator('#transcript .card h4', { hasText: expectCard }).first().waitFor(WAIT);
      if (await page.locator('#suggested').isVisible()) throw new Error('the suggested actions stayed after a click');
    }
    if (subscribe) {
      await page.fill('#message', subscribe);
      await page.press('#message', 'Enter');
      await page.locator('#transcript li[data-role=user] .text', { hasText: subscribe }).first().waitFor(WAIT);
    }

    // The web hook panel: pick this user among the subscribers and notify them.
    const userId = await page.evaluate(() => JSON.parse(localStorage.getItem('botwright-webchat')).userId);
    const option = page.locator(`#subscribers option[value="${userId}"]`);
    for (const deadline = Date.now() + WAIT.timeout; !(await option.count());) {
      if (Date.now() > deadline) throw new Error(userId + ' is not among the subscribers in the panel');
      await page.click('#refresh');
      await page.waitForTimeout(200);
    }
    await page.selectOption('#subscribers', userId);
    await page.fill('#msg-id', '');
    await page.fill('#notification', notification);
    await page.click('#notify');
    await page.locator('#hook-result', { hasText: 'POST /api/notify → 200' }).waitFor(WAIT);
    await botSays(notification);
    if (!(await page.locator('#status', { hasText: 'WebSocket' }).count())) {
      throw new Error('the page did not receive over the WebSocket: ' + await page.textContent('#status'));
    }

    if (standup) {
      // The panel's standup: every subscriber (this user among them) is asked; the answer given
      // in the chat shows in the report.
      await page.fill('#report-id', 'report-' + Date.now());
      await page.click('#standup');
      await page.locator('#hook-result', { hasText: 'POST /api/standup → 200' }).waitFor(WAIT);
      await page.locator('#transcript li[data-role=bot] .text', { hasText: STANDUP_QUESTION }).last().waitFor(WAIT);
      await page.fill('#message', 'All green');
      await page.press('#message', 'Enter');
      await page.locator('#transcript li[data-role=bot] .text', { hasText: STANDUP_THANKS }).last().waitFor(WAIT);
      await page.click('#report');
      await page.locator('#hook-result', { hasText: '"All green"' }).waitFor(WAIT);
    }

    await mkdir(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log('screenshot:', screenshot);

    // A reload picks the conversation up again: the history, then the stream.
    await page.reload();
    await page.locator('#status', { hasText: 'WebSocket' }).waitFor(WAIT);
    await botSays(notification);

    // Without WebSockets (a proxy that refuses them), the page polls, and a proactive message
    // still arrives; this one is fired straight at the web hook.
    const polling = await page.context().newPage();
    await polling.routeWebSocket(/\/stream/, (socket) => socket.close());
    await polling.goto(base + '/');
    await polling.locator('#status', { hasText: 'polling' }).waitFor(WAIT);
    const subscribers = await (await fetch(base + '/api/subscriptions')).json();
    const mine = subscribers.find((entry) => entry.userId === userId);
    if (!mine) throw new Error('the user is not in GET /api/subscriptions');
    const polled = notification + ' (polled)';
    const response = await fetch(base + '/api/notify', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ address: mine.address, notification: polled }),
    });
    if (response.status !== 200) throw new Error('POST /api/notify answered ' + response.status);
    await polling.locator('#transcript li[data-role=bot] .text', { hasText: polled }).first().waitFor(WAIT);

    if (process.env.EVICT === '1') {
      // The server holds one conversation: opening another drops ours and closes its stream. The
      // page reconnects (the conversation opens again) and still gets proactive messages.
      await page.evaluate(() => {
        const status = document.getElementById('status');
        window.statuses = [];
        new MutationObserver(() => window.statuses.push(status.textContent))
          .observe(status, { childList: true, characterData: true, subtree: true });
      });
      const { token } = await (await fetch(base + '/v3/directline/tokens/generate', { method: 'POST' })).json();
      await fetch(base + '/v3/directline/conversations', { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
      // The stream closed (the page polled), then it is back on a WebSocket.
      await page.waitForFunction(() => window.statuses.some((s) => s.includes('polling'))
        && window.statuses[window.statuses.length - 1].includes('WebSocket'), null, WAIT);
      const again = notification + ' (after a reconnect)';
      const response = await fetch(base + '/api/notify', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ address: mine.address, notification: again }),
      });
      if (response.status !== 200) throw new Error('POST /api/notify answered ' + response.status);
      await botSays(again);
    }
  } finally {
    await close();
  }
});
