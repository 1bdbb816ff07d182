// Chat page of the Bot API emulator: acts as a Telegram user through the /control API.
"use strict";

// Page chrome only; the bot's own texts come from the bot.
const UI = {
  zh: {
    user: "用户", newUser: "新用户", moveClock: "拨快时钟", placeholder: "输入消息",
    firstName: "名字", language: "语言", cancel: "取消", create: "创建", edited: "已编辑",
    noBot: "等待机器人连接…", noUser: "请先创建一个用户", empty: "发送 /start 开始",
    typing: "正在输入…", online: "机器人", clockMoved: "时钟已拨快 {h} 小时",
    failed: "操作失败：", hours: "小时",
  },
  en: {
    user: "User", newUser: "New user", moveClock: "Move clock", placeholder: "Message",
    firstName: "First name", language: "Language", cancel: "Cancel", create: "Create",
    edited: "edited", noBot: "Waiting for the bot to connect…", noUser: "Create a user first",
    empty: "Send /start to begin", typing: "typing…", online: "bot",
    clockMoved: "Clock moved {h} h forward", failed: "Failed: ", hours: "h",
  },
};

const state = {
  lang: localStorage.getItem("emu.lang") || "zh",
  userId: Number(localStorage.getItem("emu.user")) || null,
  lastRendered: "",
  botReady: false,
};

const $ = (id) => document.getElementById(id);
const t = (key) => UI[state.lang][key] || key;

async function control(method, path, body) {
  const options = { method, headers: {} };
  let url = "/control/" + path;
  if (body && method === "GET") {
    url += "?" + new URLSearchParams(body).toString();
  } else if (body) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const resp = await fetch(url, options);
  const data = await resp.json().catch(() => ({ ok: false, error: resp.statusText }));
  if (!data.ok) {
    const err = new Error(data.error || resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return data.result;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  $("lang").textContent = state.lang === "zh" ? "EN" : "中文";
  state.lastRendered = "";
}

function toast(text, ms = 2500) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, ms);
}

// Renders text with Telegram entities; offsets are UTF-16 units, the same as JS strings.
function renderText(text, entities) {
  const frag = document.createDocumentFragment();
  const ents = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(start, end, list, parent) {
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const e = list[i];
      if (e.offset > pos) parent.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      const eEnd = Math.min(e.offset + e.length, end);
      const inner = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < eEnd) {
        if (list[j].offset + list[j].length <= eEnd) inner.push(list[j]);
        j++;
      }
      const el = entityElement(e);
      build(e.offset, eEnd, inner, el);
      parent.appendChild(el);
      pos = Math.max(pos, eEnd);
      i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }
  build(0, text.length, ents.filter((e) => e.offset + e.length <= text.length), frag);
  return frag;
}

function entityElement(e) {
  const tags = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote",
  };
  if (e.type === "text_link" || e.type === "url") {
    const a = document.createElement("a");
    if (e.url) a.href = e.url;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }
  if (e.type === "spoiler") {
    const s = document.createElement("span");
    s.className = "spoiler";
    s.addEventListener("click", () => s.classList.toggle("shown"));
    return s;
  }
  return document.createElement(tags[e.type] || "span");
}

function formatSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function formatTime(unix) {
  const d = new Date(unix * 1000);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

function messageNode(m) {
  const row = document.createElement("div");
  row.className = "row " + m.sender;
  // Lets a test (and a curious person in the inspector) match a row to the transcript.
  row.dataset.messageId = m.message_id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (m.document) {
    const a = document.createElement("a");
    a.className = "doc";
    a.href = "/control/file/" + encodeURIComponent(m.document.file_id);
    a.download = m.document.file_name || "file";
    const icon = document.createElement("span");
    icon.className = "doc-icon";
    const ext = (m.document.file_name || "").split(".").pop();
    icon.textContent = (ext || "FILE").slice(0, 4).toUpperCase();
    const info = document.createElement("span");
    const name = document.createElement("div");
    name.className = "doc-name";
    name.textContent = m.document.file_name || "file";
    const size = document.createElement("div");
    size.className = "doc-size";
    size.textContent = formatSize(m.document.file_size);
    info.append(name, size);
    a.append(icon, info);
    bubble.appendChild(a);
  }
  if (m.photo) {
    const img = document.createElement("img");
    img.className = "photo";
    img.src = "/control/file/" + encodeURIComponent(m.photo.file_id);
    img.alt = "photo";
    bubble.appendChild(img);
  }
  if (m.sticker) {
    const s = document.createElement("div");
    s.className = "sticker";
    s.textContent = m.sticker.emoji || "🖼";
    bubble.appendChild(s);
  }
  if (m.contact) {
    // A shared contact card (sent through POST /control/contact).
    const c = document.createElement("div");
    c.className = "contact";
    c.textContent = "\u{1F4C7} " + (m.contact.first_name || "") + " " + m.contact.phone_number;
    bubble.appendChild(c);
  }
  if (m.text != null) bubble.appendChild(renderText(m.text, m.entities));
  if (m.caption != null) {
    const c = document.createElement("div");
    c.className = "caption";
    c.textContent = m.caption;
    bubble.appendChild(c);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (m.edited ? t("edited") + " " : "") + formatTime(m.edit_date || m.date);
  bubble.appendChild(meta);
  row.appendChild(bubble);
  if (m.keyboard && m.keyboard.length) row.appendChild(inlineKeyboard(m));
  return row;
}

function inlineKeyboard(m) {
  const box = document.createElement("div");
  box.className = "keyboard";
  for (const buttons of m.keyboard) {
    const row = document.createElement("div");
    row.className = "kb-row";
    for (const b of buttons) {
      if (b.url) {
        const a = document.createElement("a");
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener";
        // U+FE0E: the arrow as text; with an emoji font it would turn into a coloured tile.
        a.textContent = b.text + " ↗\uFE0E";
        row.appendChild(a);
        continue;
      }
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.text;
      if (b.callback_data != null) btn.addEventListener("click", () => press(m.message_id, b.callback_data));
      else btn.disabled = true;
      row.appendChild(btn);
    }
    box.appendChild(row);
  }
  return box;
}

function replyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  if (!markup || !markup.keyboard) { box.hidden = true; return; }
  for (const buttons of markup.keyboard) {
    const row = document.createElement("div");
    row.className = "kb-row";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.text;
      btn.addEventListener("click", () => say(b.text));
      row.appendChild(btn);
    }
    box.appendChild(row);
  }
  box.hidden = false;
}

function showNotice(text) {
  const box = $("messages");
  const note = document.createElement("div");
  note.className = "empty";
  note.textContent = text;
  box.replaceChildren(note);
  state.lastRendered = "";
}

async function refresh() {
  if (!state.userId) { showNotice(t("noUser")); return; }
  let chat;
  try {
    chat = await control("GET", "transcript", { user_id: state.userId });
  } catch (err) {
    if (err.status === 409) showNotice(t("noBot"));
    else if (err.status === 404) { state.userId = null; await loadUsers(); }
    return;
  }
  state.botReady = true;
  $("bot-name").textContent = chat.bot.first_name;
  $("bot-avatar").textContent = (chat.bot.first_name || "B").slice(0, 1);
  $("bot-status").textContent = chat.chat_action ? t("typing") : "@" + chat.bot.username;
  const visible = chat.messages.filter((m) => !m.deleted);
  const key = JSON.stringify([visible, chat.reply_keyboard, state.lang]);
  if (key === state.lastRendered) return;
  state.lastRendered = key;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (!visible.length) { showNotice(t("empty")); state.lastRendered = key; }
  else box.replaceChildren(...visible.map(messageNode));
  replyKeyboard(chat.reply_keyboard);
  if (atBottom || !refresh.scrolled) { box.scrollTop = box.scrollHeight; refresh.scrolled = true; }
}

async function say(text) {
  if (!state.userId || !text.trim()) return;
  try {
    await control("POST", "say", { user_id: state.userId, text });
    refresh.scrolled = false;
    await refresh();
  } catch (err) { toast(t("failed") + err.message); }
}

async function press(messageId, data) {
  try {
    const r = await control("POST", "press", { user_id: state.userId, message_id: messageId, callback_data: data });
    const answered = await control("POST", "wait_answer", { callback_query_id: r.callback_query_id, timeout: 3 });
    const answer = answered.answer || {};
    if (answer.text) {
      if (answer.show_alert) alert(answer.text); else toast(answer.text);
    }
    if (answer.url) window.open(answer.url, "_blank");
  } catch (err) {
    if (err.status !== 408) toast(t("failed") + err.message);
  }
  await refresh();
}

async function loadUsers() {
  const users = await control("GET", "users");
  const select = $("user-select");
  select.replaceChildren(...users.map((u) => {
    const o = document.createElement("option");
    o.value = u.id;
    o.textContent = `${u.first_name} (${u.language_code || "?"})`;
    return o;
  }));
  if (!users.some((u) => u.id === state.userId)) state.userId = users.length ? users[0].id : null;
  if (state.userId) select.value = String(state.userId);
  localStorage.setItem("emu.user", state.userId || "");
  state.lastRendered = "";
}

async function loadInfo() {
  try {
    const info = await control("GET", "info");
    $("clock-box").hidden = !info.clock;
  } catch (err) { /* the page keeps working without it */ }
}

function bind() {
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("text");
    const text = input.value;
    input.value = "";
    say(text);
  });
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("emu.lang", state.lang);
    applyLanguage();
    refresh();
  });
  $("user-select").addEventListener("change", (ev) => {
    state.userId = Number(ev.target.value);
    localStorage.setItem("emu.user", state.userId);
    state.lastRendered = "";
    refresh.scrolled = false;
    refresh();
  });
  const dialog = $("user-dialog");
  $("new-user").addEventListener("click", () => {
    dialog.querySelector("[name=language_code]").value = state.lang === "zh" ? "zh-hans" : "en";
    dialog.showModal();
  });
  $("user-cancel").addEventListener("click", () => dialog.close());
  $("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    dialog.close();
    const user = await control("POST", "users", {
      first_name: form.get("first_name"), language_code: form.get("language_code"),
    });
    state.userId = user.id;
    await loadUsers();
    refresh();
  });
  $("clock-go").addEventListener("click", async () => {
    const hours = Number($("clock-hours").value) || 0;
    try {
      await control("POST", "clock", { advance_hours: hours });
      toast(t("clockMoved").replace("{h}", hours));
    } catch (err) { toast(t("failed") + err.message); }
  });
}

async function main() {
  applyLanguage();
  bind();
  await loadUsers().catch(() => {});
  await loadInfo();
  await refresh();
  setInterval(refresh, 700);
  setInterval(loadInfo, 5000);
}

main();
