// The built-in web chat: a small Direct Line 3.0 client (REST to post, a WebSocket to
// receive, polling when the WebSocket fails) and, when enabled, a panel for the sample's web hooks.
'use strict';

const config = JSON.parse(document.getElementById('webchat-config').textContent);
const $ = (id) => document.getElementById(id);
const STORE = 'botwright-webchat';

let session = null; // {name, userId, conversationId, token, watermark}
let socket = null;
let pollTimer = null;
let typingTimer = null;
const shown = new Set(); // activity ids already in the transcript

// ---- Direct Line ---------------------------------------------------------------------------

async function directLine(method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const response = await fetch(config.directLine + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = (data.error && data.error.message) || response.statusText;
    throw Object.assign(new Error(reason), { status: response.status });
  }
  return data;
}

// The user id: the server's when it assigns one (the answer's `userId`), else (a server that lets
// clients choose) one derived from the name, so that the same name is the same user.
function chosenUserId(name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return 'web-' + (slug || Array.from(name, (c) => c.codePointAt(0).toString(36)).join('-'));
}

// Asks for a token of a new conversation. `previous` is the last token of this browser (perhaps
// expired): the server then keeps the user it assigned, until the session's maximum age.
async function generate(name, previous) {
  if (previous) {
    try {
      return await directLine('POST', '/tokens/generate', { user: { name } }, previous);
    } catch (e) {
      if (e.status !== 403) throw e;
      // The session ended, or the server no longer knows the token: a new user.
    }
  }
  const generated = await directLine('POST', '/tokens/generate', { user: { name } });
  if (generated.userId) return generated;
  // The server lets clients choose: name the user, so that the token speaks for it.
  return directLine('POST', '/tokens/generate', { user: { id: chosenUserId(name), name } });
}

async function startConversation(name, previous) {
  const generated = await generate(name, previous);
  const started = await directLine('POST', '/conversations', undefined, generated.token);
  const userId = started.userId || generated.userId || chosenUserId(name);
  session = { name, userId, conversationId: started.conversationId, token: started.token, watermark: null,
    expiresIn: started.expires_in };
  save();
  keepTokenFresh();
  listen(started.streamUrl);
}

// Refreshes the token before it expires (the stream needs none once open; polling and posting do).
let refreshTimer = null;
function keepTokenFresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const every = Math.max(30, (session.expiresIn || 1800) - 120) * 1000;
  refreshTimer = setTimeout(async () => {
    if (!session) return;
    try {
      const refreshed = await directLine('POST', '/tokens/refresh', undefined, session.token);
      session.token = refreshed.token;
      session.expiresIn = refreshed.expires_in;
      save();
    } catch (e) {
      // Expired or the session ended: the next request fails and recover() starts again.
    }
    keepTokenFresh();
  }, every);
}

// Picks up the conversation kept in this browser; false when it is gone (token expired,
// server restarted with a new key).
async function resumeConversation() {
  try {
    const path = '/conversations/' + encodeURIComponent(session.conversationId) +
      (session.watermark ? '?watermark=' + encodeURIComponent(session.watermark) : '');
    const answer = await directLine('GET', path, undefined, session.token);
    // The history first (our own messages included), then live activities.
    await poll(null);
    if (answer.userId) session.userId = answer.userId;
    keepTokenFresh();
    listen(answer.streamUrl);
    return true;
  } catch (e) {
    return false;
  }
}

function listen(streamUrl) {
  stopPolling();
  try {
    socket = new WebSocket(streamUrl);
  } catch (e) {
    startPolling();
    return;
  }
  socket.onopen = () => setStatus('connected (WebSocket)', true);
  socket.onmessage = (event) => {
    if (!event.data) return; // keep-alive
    received(JSON.parse(event.data));
  };
  socket.onclose = () => {
    socket = null;
    if (session) startPolling();
  };
}

function startPolling() {
  if (pollTimer || !session) return;
  setStatus('connected (polling)', true);
  const tick = async () => {
    try {
      await poll(session.watermark);
    } catch (e) {
      await recover(e);
    }
    if (pollTimer) pollTimer = setTimeout(tick, 1000);
  };
  pollTimer = setTimeout(tick, 0);
}

// The server no longer holds the conversation (404: it restarted, or dropped it to make room):
// reconnecting opens it again. A token it no longer accepts (403: expired, or a restart with a
// new key): a new conversation, for the same user when the server still knows the token.
async function recover(error) {
  if (error.status === 404 && await resumeConversation()) return;
  if (error.status === 403 || error.status === 404) {
    stopPolling();
    try {
      await startConversation(session.name, session.token);
      note('(this is a new conversation)');
    } catch (e) {
      setStatus('connection lost: ' + e.message, false);
      startPolling();
    }
    return;
  }
  setStatus('connection lost: ' + error.message, false);
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

async function poll(watermark) {
  const query = watermark ? '?watermark=' + encodeURIComponent(watermark) : '';
  const page = await directLine('GET', '/conversations/' + encodeURIComponent(session.conversationId) +
    '/activities' + query, undefined, session.token);
  received(page);
}

function received(page) {
  for (const activity of page.activities || []) render(activity);
  if (page.watermark && session) {
    session.watermark = page.watermark;
    save();
  }
}

async function send(activity) {
  if (!session) return;
  hideSuggestions();
  const full = Object.assign({ from: { id: session.userId, name: session.name, role: 'user' },
    locale: navigator.language }, activity);
  try {
    await directLine('POST', '/conversations/' + encodeURIComponent(session.conversationId) + '/activities',
      full, session.token);
  } catch (e) {
    setStatus('not sent: ' + e.message, false);
  }
}

const sendText = (text) => send({ type: 'message', text });

// ---- Rendering -----------------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function render(activity) {
  const fromUser = session && activity.from && activity.from.id === session.userId;
  if (activity.type === 'typing') {
    if (!fromUser) showTyping();
    return;
  }
  if (activity.type !== 'message' || shown.has(activity.id)) return;
  shown.add(activity.id);
  if (!fromUser) hideTyping();

  const item = element('li', 'msg ' + (fromUser ? 'user' : 'bot'));
  item.dataset.role = fromUser ? 'user' : 'bot';
  item.appendChild(element('span', 'who', fromUser ? session.name : (activity.from && activity.from.name) || 'bot'));
  if (activity.text) item.appendChild(element('span', 'text', activity.text));
  for (const attachment of activity.attachments || []) item.appendChild(renderAttachment(attachment));
  $('transcript').appendChild(item);
  item.scrollIntoView({ block: 'end' });

  if (!fromUser) showSuggestions(activity.suggestedActions);
}

function renderAttachment(attachment) {
  const card = element('div', 'card');
  const content = attachment.content || {};
  if (attachment.contentType === 'application/vnd.microsoft.card.hero' ||
      attachment.contentType === 'application/vnd.microsoft.card.thumbnail') {
    if (content.title) card.appendChild(element('h4', null, content.title));
    if (content.subtitle) card.appendChild(element('p', 'subtitle', content.subtitle));
    for (const image of content.images || []) {
      const img = element('img');
      img.src = image.url;
      img.alt = image.alt || '';
      card.appendChild(img);
    }
    if (content.text) card.appendChild(element('p', null, content.text));
    for (const action of content.buttons || []) card.appendChild(actionButton(action));
  } else if (attachment.contentUrl && /^image\//.test(attachment.contentType || '')) {
    const img = element('img');
    img.src = attachment.contentUrl;
    img.alt = attachment.name || '';
    card.appendChild(img);
  } else if (attachment.contentUrl) {
    const link = element('a', null, attachment.name || attachment.contentUrl);
    link.href = attachment.contentUrl;
    link.target = '_blank';
    link.rel = 'noopener';
    card.appendChild(link);
  } else {
    card.appendChild(element('p', null, '[' + (attachment.contentType || 'attachment') + ']'));
  }
  return card;
}

function actionButton(action) {
  const button = element('button', 'action', action.title || String(action.value));
  button.type = 'button';
  button.addEventListener('click', () => {
    if (action.type === 'openUrl') window.open(action.value, '_blank', 'noopener');
    else if (action.type === 'postBack' || action.type === 'messageBack') {
      send({ type: 'message', text: typeof action.value === 'string' ? action.value : action.text, value: action.value });
    } else sendText(String(action.value)); // imBack
  });
  return button;
}

function showSuggestions(suggested) {
  hideSuggestions();
  if (!suggested || !suggested.actions || suggested.actions.length === 0) return;
  const box = $('suggested');
  for (const action of suggested.actions) box.appendChild(actionButton(action));
  box.hidden = false;
}

function hideSuggestions() {
  $('suggested').replaceChildren();
  $('suggested').hidden = true;
}

function showTyping() {
  $('typing').hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, 3000);
}

function hideTyping() {
  clearTimeout(typingTimer);
  $('typing').hidden = true;
}

function note(text) {
  $('transcript').appendChild(element('li', 'note', text));
}

function setStatus(text, live) {
  $('status').textContent = text;
  $('status').classList.toggle('live', !!live);
}

// ---- Page ----------------------------------------------------------------------------------

function save() {
  localStorage.setItem(STORE, JSON.stringify(session));
}

function showChat(on) {
  $('join').hidden = on;
  $('transcript').hidden = !on;
  $('compose').hidden = !on;
  $('leave').hidden = !on;
  if (on) $('message').focus();
}

function leave() {
  clearTimeout(refreshTimer);
  if (socket) socket.close();
  stopPolling();
  session = null;
  localStorage.removeItem(STORE);
  shown.clear();
  $('transcript').replaceChildren();
  hideSuggestions();
  setStatus('not connected', false);
  showChat(false);
}

$('join').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  if (!name) return;
  try {
    setStatus('connecting…', false);
    await startConversation(name);
    showChat(true);
  } catch (e) {
    setStatus('could not connect: ' + e.message, false);
  }
});

$('compose').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('message').value.trim();
  if (!text) return;
  $('message').value = '';
  sendText(text);
});

$('leave').addEventListener('click', leave);

// ---- The sample's web hooks ----------------------------------------------------------------

async function hook(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  const token = $('hook-token').value.trim();
  if (token) headers.Authorization = 'Bearer ' + token;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = text;
  try { data = JSON.parse(text); } catch (e) { /* not JSON: shown as text */ }
  return { status: response.status, data };
}

function showResult(label, result) {
  const body = typeof result.data === 'string' ? result.data : JSON.stringify(result.data, null, 2);
  $('hook-result').textContent = label + ' → ' + result.status + '\n' + body;
}

let subscribers = [];

async function refreshSubscribers() {
  const result = await hook('GET', '/api/subscriptions');
  subscribers = Array.isArray(result.data) ? result.data : [];
  const select = $('subscribers');
  select.replaceChildren();
  for (const entry of subscribers) {
    const option = element('option', null, entry.userId);
    option.value = entry.userId;
    if (session && entry.userId === session.userId) option.selected = true;
    select.appendChild(option);
  }
  if (subscribers.length === 0) select.appendChild(element('option', null, '(no subscribers yet)'));
  showResult('GET /api/subscriptions', result);
}

async function notify() {
  const entry = subscribers.find((s) => s.userId === $('subscribers').value);
  if (!entry) {
    $('hook-result').textContent = 'Pick a subscriber first (a user subscribes by saying "subscribe").';
    return;
  }
  const msgId = $('msg-id').value.trim();
  const body = msgId
    ? { address: entry.address, msgId, params: $('params').value.split(',').map((p) => p.trim()).filter(Boolean) }
    : { address: entry.address, notification: $('notification').value };
  showResult('POST /api/notify', await hook('POST', '/api/notify', body));
}

async function standup() {
  if (subscribers.length === 0) await refreshSubscribers();
  const members = subscribers.map((s) => ({ id: s.userId, address: s.address }));
  showResult('POST /api/standup', await hook('POST', '/api/standup', { members, reportId: $('report-id').value }));
}

async function report() {
  const id = encodeURIComponent($('report-id').value);
  showResult('GET /api/standup/' + id, await hook('GET', '/api/standup/' + id));
}

const guarded = (f) => () => f().catch((e) => { $('hook-result').textContent = 'failed: ' + e.message; });

if (config.samplePanel) {
  $('panel').hidden = false;
  $('refresh').addEventListener('click', guarded(refreshSubscribers));
  $('notify').addEventListener('click', guarded(notify));
  $('standup').addEventListener('click', guarded(standup));
  $('report').addEventListener('click', guarded(report));
  refreshSubscribers().catch(() => {});
}

// ---- Start ---------------------------------------------------------------------------------

(async () => {
  const kept = localStorage.getItem(STORE);
  if (kept) {
    try { session = JSON.parse(kept); } catch (e) { session = null; }
  }
  if (session && await resumeConversation()) {
    $('name').value = session.name;
    showChat(true);
  } else if (session && session.name && session.token) {
    // The conversation is gone (its token expired, the server restarted): a new one, for the same
    // user when the server still knows the token.
    try {
      $('name').value = session.name;
      await startConversation(session.name, session.token);
      showChat(true);
    } catch (e) {
      session = null;
      localStorage.removeItem(STORE);
      showChat(false);
    }
  } else {
    session = null;
    localStorage.removeItem(STORE);
    showChat(false);
  }
})();
