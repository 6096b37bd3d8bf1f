// The built-in page keeps its user across a reload after its token expired: it sends the expired
// token to tokens/generate and gets a new conversation for the same (server-assigned) user.
// Needs a server whose tokens live a few seconds (TOKEN_SECONDS, default 2).
//
// Environment:
//   BASE_URL       the server (required)
//   EXPECT_REPLY   a bot message expected after "hi" (required)
//   TOKEN_SECONDS  the server's token lifetime in seconds (default 2)
import { launch, need, run } from './chromium.mjs';

const base = need('BASE_URL');
const expectReply = need('EXPECT_REPLY');
const tokenSeconds = Number(process.env.TOKEN_SECONDS || '2');
const WAIT = { timeout: 15000 };

run('web chat page keeps its user', async () => {
  const { page, close } = await launch();
  try {
    const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('botwright-webchat')));
    await page.goto(base + '/');
    await page.fill('#name', 'Renata');
    await page.click('#join button[type=submit]');
    await page.locator('#status', { hasText: 'WebSocket' }).waitFor(WAIT);
    const before = await stored();
    if (!before.userId) throw new Error('no user id kept: ' + JSON.stringify(before));

    await page.waitForTimeout((tokenSeconds + 1.5) * 1000); // the token expires
    await page.reload();
    await page.locator('#status', { hasText: 'WebSocket' }).waitFor(WAIT);
    const after = await stored();
    if (after.conversationId === before.conversationId) throw new Error('the expired token still opened its conversation');
    if (after.userId !== before.userId) throw new Error(`the user changed: ${before.userId} -> ${after.userId}`);
    await page.fill('#message', 'hi');
    await page.press('#message', 'Enter');
    await page.locator('#transcript li[data-role=bot] .text', { hasText: expectReply }).first().waitFor(WAIT);
    console.log('kept user', after.userId, 'in conversation', after.conversationId);
  } finally {
    await close();
  }
});
