// Interop: the official botframework-webchat bundle (from npm) in headless Chromium talks to the
// embedded Direct Line endpoint over its WebSocket stream: it sends a message and shows the reply.
//
// Environment:
//   BASE_URL      the server; it must serve /interop.html and /vendor/webchat.js (required)
//   SAY           the message to send (default "hi")
//   EXPECT_REPLY  a bot message expected after it (required)
//   BUTTON, EXPECT_AFTER_BUTTON  a suggested action to click and the answer (optional)
import { launch, need, run } from './chromium.mjs';

const base = need('BASE_URL');
const say = process.env.SAY || 'hi';
const expectReply = need('EXPECT_REPLY');
const button = process.env.BUTTON || '';
const expectAfterButton = button ? need('EXPECT_AFTER_BUTTON') : '';
const WAIT = { timeout: 30000 };

run('botframework-webchat bundle', async () => {
  const { page, close } = await launch();
  try {
    await page.goto(base + '/interop.html');
    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.waitFor(WAIT);
    // ConnectionStatus 2 is Online.
    await page.waitForFunction(() => (window.connectionStatuses || []).includes(2), null, WAIT);
    await input.fill(say);
    await input.press('Enter');
    await page.locator('.webchat__bubble__content', { hasText: expectReply }).first().waitFor(WAIT);
    if (button) {
      await page.locator('.webchat__suggested-action', { hasText: button }).first().click(WAIT);
      await page.locator('.webchat__bubble__content', { hasText: expectAfterButton }).first().waitFor(WAIT);
      if (process.env.EXPECT_CARD) {
        await page.locator('.webchat__bubble__content', { hasText: process.env.EXPECT_CARD }).first().waitFor(WAIT);
      }
    }
    const error = await page.evaluate(() => document.body.dataset.error);
    if (error) throw new Error(error);
    await page.screenshot({ path: process.env.SCREENSHOT || 'target/webchat-bundle.png' });
  } finally {
    await close();
  }
});
