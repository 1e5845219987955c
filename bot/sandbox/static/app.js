// Talon sandbox: a Telegram-like private chat with the bot, driven by the local JSON API
// (bot/sandbox/web.py). Plain ES2020, no dependencies.
'use strict';

const state = {
  users: [],
  commands: [],
  clock: null,
  tzOffset: 180,        // minutes east of UTC, taken from the bot clock's ISO string
  userId: null,         // whose chat is shown
  messages: [],
  loaded: false,        // messages of the shown chat fetched at least once
  pending: new Set(),   // "<message_id>\n<data>" of presses still being handled
  activity: new Set(),  // users whose chat changed while another chat was shown
  forceScroll: false,   // scroll to the bottom on the next render regardless of position
  online: true,
};

const $ = (sel) => document.querySelector(sel);
const WEEKDAYS = ['вс', 'пн', 'вт', 'ср', 'чт', 'пт', 'сб'];
const MONTHS = ['января', 'февраля', 'марта', 'апреля', 'мая', 'июня', 'июля',
  'августа', 'сентября', 'октября', 'ноября', 'декабря'];
const ROLES = { patient: 'пациент', admin: 'администратор' };

// Tiny element builder; string children become text nodes, so they are never parsed as HTML.
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
  const res = await fetch(path, init);
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).trim();
    throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
  return res.json();
}

// ---- time ------------------------------------------------------------------------------
// The bot lives in its own (simulated) clock and time zone, so every time on the page is
// shown in the clock's UTC offset rather than in the browser's zone.

const pad = (n) => String(n).padStart(2, '0');

function parseOffset(iso) {
  const m = /([+-])(\d{2}):?(\d{2})$/.exec(iso || '');
  if (!m) return /Z$/i.test(iso || '') ? 0 : state.tzOffset;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

// A Date whose UTC fields read as the bot's local wall-clock time.
const botTime = (ms) => new Date(ms + state.tzOffset * 60000);
const hhmm = (d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;

function dayLabel(d) {
  const year = state.clock ? botTime(Date.parse(state.clock)).getUTCFullYear() : null;
  const label = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return d.getUTCFullYear() === year ? label : `${label} ${d.getUTCFullYear()}`;
}

function setClock(iso) {
  if (!iso) return;
  state.clock = iso;
  state.tzOffset = parseOffset(iso);
  const d = botTime(Date.parse(iso));
  const el = $('#clock');
  el.textContent = `${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ` +
    `${d.getUTCFullYear()}, ${hhmm(d)}`;
  el.dataset.iso = iso;
  el.title = iso;
}

function humanSize(bytes) {
  const units = ['Б', 'КБ', 'МБ', 'ГБ'];
  let n = Number(bytes) || 0;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toLocaleString('ru-RU', { maximumFractionDigits: i ? 1 : 0 })} ${units[i]}`;
}

// ---- state & sidebar -------------------------------------------------------------------

async function loadState() {
  const data = await api('/api/state');
  state.users = data.users || [];
  state.commands = data.commands || [];
  setClock(data.clock);
  if (!state.users.some((u) => u.id === state.userId)) {
    const fromHash = Number(location.hash.slice(1));
    const initial = state.users.find((u) => u.id === fromHash) || state.users[0];
    if (initial) selectUser(initial.id);
  }
  renderUsers();
}

function initials(name) {
  const words = name.replace(/\(.*?\)/g, '').trim().split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

function renderUsers() {
  $('#users').replaceChildren(...state.users.map((u) => h('button', {
    type: 'button',
    class: `user${u.id === state.userId ? ' active' : ''}`,
    'data-testid': `user-${u.id}`,
    'data-user-id': u.id,
    'aria-current': u.id === state.userId ? 'true' : null,
    // The whole name, for the narrow sidebar that shows only the initials.
    title: u.name,
    onclick: () => { setUsersOpen(false); selectUser(u.id); },
  },
  h('span', { class: `avatar avatar-${u.role === 'admin' ? 'admin' : 'patient'}` }, initials(u.name)),
  h('span', { class: 'user-text' },
    h('span', { class: 'user-name' }, u.name),
    h('span', { class: 'user-role' }, ROLES[u.role] || u.role)),
  state.activity.has(u.id) ? h('span', { class: 'dot', title: 'Новые сообщения' }) : null)));
  renderUsersToggle();
  updateStatus();
}

// The bar that stands for the list on narrow screens: who writes now, and news elsewhere.
function renderUsersToggle() {
  const me = state.users.find((u) => u.id === state.userId);
  const avatar = $('#users-toggle-avatar');
  avatar.className = `avatar avatar-${me && me.role === 'admin' ? 'admin' : 'patient'}`;
  avatar.textContent = me ? initials(me.name) : '';
  $('#users-current').textContent = me ? me.name : '—';
  $('#users-toggle-dot').hidden = state.activity.size === 0;
}

function setUsersOpen(open) {
  $('#sidebar').classList.toggle('open', open);
  $('#users-toggle').setAttribute('aria-expanded', String(open));
}

function updateStatus() {
  const me = state.users.find((u) => u.id === state.userId);
  const el = $('#chat-status');
  el.classList.toggle('offline', !state.online);
  el.textContent = !state.online ? 'нет связи с сервером…'
    : me ? `бот · вы пишете как ${me.name}` : 'бот';
}

function selectUser(id) {
  if (id === state.userId) return;
  state.userId = id;
  state.activity.delete(id);
  state.messages = [];
  state.loaded = false;
  state.forceScroll = true;
  closeCommands();
  if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  renderUsers();
  renderMessages();
  refreshMessages();
  $('#input').focus();
}

// ---- messages --------------------------------------------------------------------------

let refreshSeq = 0;
let refreshTimer = null;

async function refreshMessages() {
  const uid = state.userId;
  if (uid == null) return;
  const seq = ++refreshSeq;
  try {
    const messages = await api(`/api/chats/${uid}/messages`);
    // Responses can overtake each other; only the newest request for the shown chat counts.
    if (seq !== refreshSeq || uid !== state.userId) return;
    state.messages = messages;
    state.loaded = true;
    renderMessages();
  } catch (err) {
    if (seq === refreshSeq) showToast(`Не удалось загрузить сообщения (${err.message})`);
  }
}

// Bursts of events (e.g. edit + answer) collapse into one fetch.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshMessages, 50);
}

function renderMessages() {
  const box = $('#messages');
  const stick = state.forceScroll || box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const prevTop = box.scrollTop;
  state.forceScroll = false;
  const nodes = [];
  let lastDay = null;
  for (const m of state.messages) {
    const day = dayLabel(botTime(m.date * 1000));
    if (day !== lastDay) nodes.push(h('div', { class: 'day' }, h('span', {}, day)));
    lastDay = day;
    nodes.push(renderMessage(m));
  }
  if (!nodes.length && state.loaded) {
    nodes.push(h('div', { class: 'empty' }, 'Сообщений пока нет. Отправьте /start, чтобы начать.'));
  }
  $('#messages-inner').replaceChildren(...nodes);
  box.scrollTop = stick ? box.scrollHeight : prevTop;
}

function renderMessage(m) {
  const fromBot = Boolean(m.from_bot);
  const buttons = (m.buttons || []).filter((row) => row && row.length);
  const bubble = h('div', { class: `bubble${m.html ? '' : ' no-text'}` });
  if (m.document) bubble.append(renderDocument(m.document));
  const meta = h('span', { class: 'meta' },
    m.edited ? h('span', { class: 'edited', 'data-testid': 'edited' }, 'изменено') : null,
    hhmm(botTime(m.date * 1000)));
  if (m.html) {
    const text = h('div', { class: 'text', 'data-testid': 'message-text' });
    text.innerHTML = m.html; // produced and escaped by the server from Telegram entities
    for (const a of text.querySelectorAll('a[href]')) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
    // Invisible spacer at the end of the text reserves room for the absolutely positioned
    // time, the way Telegram does, so short messages keep a compact one-line bubble.
    text.append(h('span', { class: `meta-spacer${m.edited ? ' wide' : ''}`, 'aria-hidden': 'true' }));
    bubble.append(text);
  }
  bubble.append(meta);
  return h('div', {
    class: `msg ${fromBot ? 'in' : 'out'}${buttons.length ? ' has-kb' : ''}`,
    'data-testid': 'message',
    'data-message-id': m.message_id,
    'data-from-bot': String(fromBot),
  }, bubble, buttons.length ? renderKeyboard(m, buttons) : null);
}

function renderDocument(doc) {
  const name = doc.file_name || 'file';
  const ext = (name.includes('.') ? name.split('.').pop() : 'file').slice(0, 4).toUpperCase();
  const isPdf = doc.mime_type === 'application/pdf' || ext === 'PDF';
  return h('div', { class: 'doc', 'data-testid': 'document', 'data-file-name': name },
    h('span', { class: 'doc-icon', 'aria-hidden': 'true' }, ext),
    h('span', { class: 'doc-body' },
      // With `download`, a click saves the file under its Telegram name (same-origin URL).
      h('a', { class: 'doc-name', href: doc.url, download: name, 'data-testid': 'document-link', title: name }, name),
      h('span', { class: 'doc-size' }, humanSize(doc.size),
        isPdf ? h('a', { class: 'doc-open', href: doc.url, target: '_blank', rel: 'noopener' }, 'открыть') : null)));
}

function renderKeyboard(m, rows) {
  return h('div', { class: 'keyboard' }, rows.map((row) => h('div', { class: 'kb-row' }, row.map((b) => {
    const busy = state.pending.has(`${m.message_id}\n${b.data}`);
    return h('button', {
      type: 'button',
      class: `kb-btn${busy ? ' pending' : ''}`,
      'data-testid': 'button',
      'data-data': b.data,
      'aria-busy': busy ? 'true' : null,
      disabled: busy,
      title: b.text,
      onclick: () => press(m.message_id, b.data),
    }, h('span', { class: 'kb-label' }, b.text));
  }))));
}

// The spinner lives in state.pending (not only in the DOM) so it survives re-renders
// caused by events that arrive while the press is being handled.
async function press(messageId, data) {
  const key = `${messageId}\n${data}`;
  if (state.pending.has(key)) return;
  const uid = state.userId;
  state.pending.add(key);
  renderMessages();
  try {
    const { answer } = await api(`/api/chats/${uid}/press`, { message_id: messageId, data });
    if (answer && answer.text && uid === state.userId) {
      if (answer.show_alert) showAlert(answer.text);
      else showToast(answer.text);
    }
  } catch (err) {
    showToast(`Ошибка нажатия (${err.message})`);
  } finally {
    state.pending.delete(key);
    if (uid === state.userId) {
      renderMessages();
      scheduleRefresh();
    }
  }
}

// ---- composer & commands ---------------------------------------------------------------

async function sendText(raw) {
  const text = raw.trim();
  const uid = state.userId;
  if (!text || uid == null) return false;
  try {
    await api(`/api/chats/${uid}/send`, { text });
  } catch (err) {
    showToast(`Не удалось отправить (${err.message})`);
    return false;
  }
  if (uid === state.userId) {
    state.forceScroll = true; // one's own message is always scrolled into view
    scheduleRefresh();
  }
  return true;
}

async function sendFromInput() {
  const input = $('#input');
  const text = input.value;
  if (!text.trim()) return;
  input.value = '';
  closeCommands();
  if (!(await sendText(text)) && !input.value) input.value = text; // give the text back
}

function openCommands(filter = '') {
  const menu = $('#commands-menu');
  const items = state.commands.filter((c) => c.command.startsWith(filter.toLowerCase()));
  if (!items.length && filter) return closeCommands();
  menu.replaceChildren(...(items.length ? items.map((c) => h('button', {
    type: 'button',
    class: 'cmd',
    'data-testid': 'command',
    'data-command': c.command,
    onclick: () => {
      $('#input').value = '';
      closeCommands();
      $('#input').focus();
      sendText(`/${c.command}`);
    },
  }, h('span', { class: 'cmd-name' }, `/${c.command}`), h('span', { class: 'cmd-desc' }, c.description)))
    : [h('div', { class: 'cmd-empty' }, 'У бота нет команд')]));
  menu.hidden = false;
}

function closeCommands() {
  $('#commands-menu').hidden = true;
}

// ---- toast & alert ---------------------------------------------------------------------

let toastTimer = null;

function showToast(text) {
  const toast = $('#toast');
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 2500);
}

function showAlert(text) {
  $('#alert-text').textContent = text;
  $('#alert-overlay').hidden = false;
  $('#alert-ok').focus();
}

function closeAlert() {
  $('#alert-overlay').hidden = true;
  $('#input').focus();
}

// ---- clock -----------------------------------------------------------------------------

async function advance(minutes, btn) {
  btn.disabled = true;
  try {
    const { clock } = await api('/api/clock/advance', { minutes });
    setClock(clock);
    renderMessages(); // day separators depend on the current year
  } catch (err) {
    showToast(`Не удалось перевести часы (${err.message})`);
  } finally {
    btn.disabled = false;
  }
  scheduleRefresh(); // reminders may have arrived
}

// ---- server-sent events ----------------------------------------------------------------

let stateTimer = null;

function connectEvents() {
  const events = new EventSource('/api/events');
  let dropped = false;
  events.onopen = () => {
    state.online = true;
    updateStatus();
    // Events sent before the stream (re)opened are lost: catch up.
    if (dropped || !state.users.length) loadState().catch(() => {});
    scheduleRefresh();
    dropped = false;
  };
  events.onerror = () => { // EventSource reconnects by itself
    dropped = true;
    state.online = false;
    updateStatus();
  };
  events.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    if (ev.kind === 'clock') {
      clearTimeout(stateTimer);
      stateTimer = setTimeout(() => loadState().catch(() => {}), 50);
    } else if (ev.chat_id == null || Number(ev.chat_id) === state.userId) {
      scheduleRefresh();
    } else if (ev.kind === 'message_sent' && state.users.some((u) => u.id === Number(ev.chat_id))) {
      state.activity.add(Number(ev.chat_id));
      renderUsers();
    }
  };
}

// ---- wiring ----------------------------------------------------------------------------

function init() {
  const input = $('#input');
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      sendFromInput();
    } else if (e.key === 'Escape') {
      closeCommands();
    }
  });
  // Like Telegram: a leading "/" (and no space yet) shows matching commands.
  input.addEventListener('input', () => {
    const v = input.value;
    if (v.startsWith('/') && !/\s/.test(v)) openCommands(v.slice(1));
    else closeCommands();
  });
  $('#send').addEventListener('click', () => { sendFromInput(); input.focus(); });
  $('#commands-button').addEventListener('click', () => {
    if ($('#commands-menu').hidden) openCommands(); else closeCommands();
  });
  document.addEventListener('click', (e) => {
    if (!e.target.closest('#commands-menu, #commands-button, #input')) closeCommands();
    if (!e.target.closest('#sidebar')) setUsersOpen(false);
  });
  $('#users-toggle').addEventListener('click', () => {
    setUsersOpen(!$('#sidebar').classList.contains('open'));
  });
  $('#sidebar').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && $('#sidebar').classList.contains('open')) {
      setUsersOpen(false);
      $('#users-toggle').focus();
    }
  });

  $('#advance-hour').addEventListener('click', (e) => advance(60, e.currentTarget));
  $('#advance-day').addEventListener('click', (e) => advance(1440, e.currentTarget));

  $('#alert-ok').addEventListener('click', closeAlert);
  $('#alert-overlay').addEventListener('keydown', (e) => e.key === 'Escape' && closeAlert());

  // Spoilers stay blurred until clicked, as in Telegram.
  $('#messages').addEventListener('click', (e) => {
    const spoiler = e.target.closest('.tg-spoiler');
    if (spoiler) spoiler.classList.add('revealed');
  });

  loadState().catch((err) => showToast(`Сервер недоступен (${err.message})`));
  connectEvents();
}

document.addEventListener('DOMContentLoaded', init);
