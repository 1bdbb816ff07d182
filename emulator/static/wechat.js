// The WeChat-looking chat page: act as a user of the emulated Official Account.
"use strict";

const UI = {
  zh: {
    user: "用户", newUser: "新用户", moveClock: "拨快时钟", placeholder: "", send: "发送",
    noAccount: "还没有配置公众号。\n测试或演示程序调用 POST /wechat/control/account 后刷新本页。",
    noUser: "点击“新用户”关注公众号，开始对话。", noMenu: "（公众号尚未设置菜单）",
    nickname: "昵称", subscribed: "你关注了公众号", unsubscribed: "你取消了关注",
    clicked: "你点击了菜单：", retried: "推送重试", times: "次", details: "详情",
    clockMoved: "时钟已拨快", hours: "小时", pending: "对方正在输入…",
  },
  en: {
    user: "User", newUser: "New user", moveClock: "Move clock", placeholder: "", send: "Send",
    noAccount: "No Official Account is configured yet.\nPOST /wechat/control/account, then reload.",
    noUser: "Tap “New user” to follow the account and start.", noMenu: "(no custom menu yet)",
    nickname: "Nickname", subscribed: "You followed the account", unsubscribed: "You unfollowed",
    clicked: "You tapped the menu: ", retried: "push retried", times: "×", details: "Details",
    clockMoved: "Clock moved", hours: "h", pending: "typing…",
  },
};

const state = {
  lang: localStorage.getItem("wx.lang") || "zh",
  openid: localStorage.getItem("wx.openid") || "",
  account: null,
  menu: null,
  users: [],
  entries: [],
  lastKey: "",
  mode: "menu", // "menu" (the custom menu bar) or "keyboard"
  pending: 0,
};

const $ = (id) => document.getElementById(id);
const t = (key) => UI[state.lang][key] || key;

async function call(verb, path, body) {
  const opts = { method: verb, headers: {} };
  let url = `/wechat/control/${path}`;
  if (verb === "GET" && body) url += "?" + new URLSearchParams(body);
  else if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const resp = await fetch(url, opts);
  const data = await resp.json();
  if (!data.ok) throw new Error(data.error || resp.status);
  return data.result;
}

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 2500);
}

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang").textContent = state.lang === "zh" ? "EN" : "中文";
  state.lastKey = "";
  render();
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeLabel(ts) {
  const d = new Date(ts * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}/${d.getDate()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// WeChat shows <a href="..."> in a text message as a link and links bare URLs; a
// weixin://bizmsgmenu?msgmenucontent=..&msgmenuid=.. link acts like a msgmenu option.
// Everything else stays text (never innerHTML).
function richText(text) {
  const frag = document.createDocumentFragment();
  const re = /<a\s+href=["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>|(https?:\/\/[^\s<，。！？、；：）]+)/gi;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) frag.append(document.createTextNode(text.slice(last, m.index)));
    const href = m[1] || m[3];
    const label = m[1] ? m[2] : m[3];
    const a = el("a", "", label);
    if (href.startsWith("weixin://bizmsgmenu")) {
      const q = new URLSearchParams(href.split("?")[1] || "");
      a.href = "#";
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        act("choose", { id: q.get("msgmenuid") || "", content: q.get("msgmenucontent") || label, force: true });
      });
    } else if (/^https?:/i.test(href)) {
      a.href = href; a.target = "_blank"; a.rel = "noopener";
    } else {
      frag.append(document.createTextNode(m[0]));
      last = re.lastIndex;
      continue;
    }
    frag.append(a);
    last = re.lastIndex;
  }
  if (last < text.length) frag.append(document.createTextNode(text.slice(last)));
  return frag;
}

function bubble(text, mine) {
  const b = el("div", "wx-bubble");
  if (mine) b.textContent = text;
  else b.append(richText(text));
  return b;
}

function currentUser() { return state.users.find((u) => u.openid === state.openid); }

function row(mine, content) {
  const r = el("div", "wx-row" + (mine ? " me" : ""));
  const user = currentUser();
  const av = el("div", "wx-avatar " + (mine ? "user" : "bot"),
    mine ? (user ? user.nickname.slice(-1) : "我") : "CET");
  r.append(av, content);
  return r;
}

function note(text, cls) {
  const n = el("div", "wx-note" + (cls ? " " + cls : ""));
  n.append(el("span", "", text));
  return n;
}

function chosenIds() {
  return new Set(state.entries.filter((e) => e.bizmsgmenuid).map((e) => e.bizmsgmenuid));
}

function renderEntry(e, chosen) {
  if (e.direction === "system") return note(e.text, "error");
  if (e.kind === "event") {
    if (e.event === "subscribe") return note(t("subscribed"));
    if (e.event === "unsubscribe") return note(t("unsubscribed"));
    return note(t("clicked") + (e.name || e.key));
  }
  const mine = e.direction === "user";
  if (e.kind === "text") return row(mine, bubble(e.text, mine));
  if (e.kind === "image") {
    const img = el("img", "wx-image");
    img.src = `/wechat/control/media/${encodeURIComponent(e.media_id)}`;
    img.alt = "image";
    return row(mine, img);
  }
  if (e.kind === "msgmenu") {
    const b = el("div", "wx-bubble");
    if (e.head_content) b.append(el("div", "", e.head_content));
    const opts = el("div", "wx-options");
    for (const o of e.options || []) {
      const a = el("a", chosen.has(o.id) ? "chosen" : "", o.content);
      a.href = "#";
      a.addEventListener("click", (ev) => { ev.preventDefault(); act("choose", { id: o.id }); });
      opts.append(a);
    }
    b.append(opts);
    if (e.tail_content) b.append(el("div", "", e.tail_content));
    return row(false, b);
  }
  if (e.kind === "template") {
    const card = el("div", "wx-card");
    card.append(el("div", "head", e.title), el("div", "date", timeLabel(e.time)));
    const body = el("div", "body");
    if (e.rendered) body.textContent = e.rendered;
    else for (const [k, v] of Object.entries(e.data || {})) {
      const line = el("div");
      line.append(el("span", "k", k + "："), document.createTextNode(v));
      body.append(line);
    }
    card.append(body);
    if (e.url) {
      const foot = el("a", "foot wx-link", t("details"));
      foot.href = e.url; foot.target = "_blank"; foot.rel = "noopener";
      card.append(foot);
    }
    return row(false, card);
  }
  if (e.kind === "news") {
    const a = (e.articles || [])[0] || {};
    const b = el("div", "wx-bubble");
    const link = el("a", "", a.title || "");
    link.href = a.url || "#"; link.target = "_blank"; link.rel = "noopener";
    b.append(link);
    if (a.description) b.append(el("div", "", a.description));
    return row(false, b);
  }
  return row(mine, el("div", "wx-bubble", `[${e.kind}]`));
}

function render() {
  $("account-name").textContent = state.account ? state.account.name : "—";
  const box = $("messages");
  const key = JSON.stringify([state.lang, state.openid, state.entries.length,
    state.entries.length ? state.entries[state.entries.length - 1].seq : 0, state.pending,
    chosenIds().size]);
  if (key !== state.lastKey) {
    state.lastKey = key;
    box.replaceChildren();
    if (!state.account) box.append(el("div", "wx-empty", t("noAccount")));
    else if (!currentUser()) box.append(el("div", "wx-empty", t("noUser")));
    const chosen = chosenIds();
    let lastTime = 0;
    for (const e of state.entries) {
      if (e.time - lastTime > 300) box.append(el("div", "wx-time", timeLabel(e.time)));
      lastTime = e.time;
      box.append(renderEntry(e, chosen));
    }
    if (state.pending) box.append(el("div", "wx-typing", t("pending")));
    box.scrollTop = box.scrollHeight;
  }
  renderBottom();
}

function renderBottom() {
  const hasMenu = Array.isArray(state.menu) && state.menu.length > 0;
  // Without a custom menu WeChat shows only the keyboard; with one, the menu bar by default.
  const mode = hasMenu ? state.mode : "keyboard";
  $("mode").textContent = mode === "menu" ? "⌨" : "☰";
  $("mode").hidden = !hasMenu;
  $("menubar").hidden = mode !== "menu";
  $("composer").hidden = mode !== "keyboard";
  const key = JSON.stringify(state.menu);
  if (renderBottom.key === key) return;
  renderBottom.key = key;
  const bar = $("menubar");
  bar.replaceChildren();
  if (!hasMenu) { bar.append(el("div", "empty", t("noMenu"))); return; }
  state.menu.forEach((b) => {
    const btn = el("button", (b.sub_button || []).length ? "has-sub" : "", b.name);
    btn.type = "button";
    btn.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if ((b.sub_button || []).length) openSubmenu(btn, b.sub_button);
      else pressLeaf(b);
    });
    bar.append(btn);
  });
}

function openSubmenu(anchor, subs) {
  const menu = $("submenu");
  if (!menu.hidden && menu.dataset.anchor === anchor.textContent) { menu.hidden = true; return; }
  menu.replaceChildren();
  menu.dataset.anchor = anchor.textContent;
  for (const s of subs) {
    const b = el("button", "", s.name);
    b.type = "button";
    b.addEventListener("click", () => { menu.hidden = true; pressLeaf(s); });
    menu.append(b);
  }
  const phone = document.querySelector(".phone").getBoundingClientRect();
  const r = anchor.getBoundingClientRect();
  menu.hidden = false;
  menu.style.left = Math.max(4, r.left - phone.left + r.width / 2 - menu.offsetWidth / 2) + "px";
}

function pressLeaf(b) {
  if (b.type === "view" && b.url) { window.open(b.url, "_blank", "noopener"); return; }
  act("click", { key: b.key, force: b.type !== "click" ? true : undefined });
}

async function ensureUser() {
  if (currentUser()) return;
  await newUser(state.lang === "zh" ? "小明" : "Ming");
}

async function newUser(nickname) {
  state.pending += 1;
  render();
  try {
    const report = await call("POST", "subscribe", { nickname });
    state.openid = report.openid;
    localStorage.setItem("wx.openid", state.openid);
    reportNotes(report);
  } finally {
    state.pending -= 1;
  }
  await refresh();
}

function reportNotes(report) {
  if (report.attempts > 1) toast(`${t("retried")} ${report.attempts} ${t("times")}`);
}

async function act(kind, body) {
  try {
    await ensureUser();
    state.pending += 1;
    render();
    const report = await call("POST", kind, { openid: state.openid, ...body });
    reportNotes(report);
  } catch (err) {
    toast(String(err.message || err));
  } finally {
    state.pending = Math.max(0, state.pending - 1);
    await refresh();
  }
}

async function refresh() {
  try {
    const page = await call("GET", "state");
    state.account = page.account;
    state.menu = page.menu;
    state.users = page.users;
    const sel = $("user-select");
    const opts = JSON.stringify(state.users.map((u) => [u.openid, u.nickname]));
    if (sel.dataset.key !== opts) {
      sel.dataset.key = opts;
      sel.replaceChildren(...state.users.map((u) => {
        const o = el("option", "", u.nickname);
        o.value = u.openid;
        return o;
      }));
    }
    if (!currentUser() && state.users.length) state.openid = state.users[0].openid;
    sel.value = state.openid;
    state.entries = currentUser()
      ? (await call("GET", "transcript", { openid: state.openid })).entries : [];
  } catch (err) {
    state.entries = [];
  }
  render();
}

function setup() {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("wx.lang", state.lang);
    applyLang();
  });
  $("mode").addEventListener("click", () => {
    state.mode = state.mode === "menu" ? "keyboard" : "menu";
    $("submenu").hidden = true;
    renderBottom();
    if (state.mode === "keyboard") $("text").focus();
  });
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    act("text", { text });
  });
  $("photo").addEventListener("click", () => $("photo-file").click());
  $("photo-file").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    const buf = new Uint8Array(await file.arrayBuffer());
    let bin = "";
    for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    act("image", { data_b64: btoa(bin) });
  });
  $("user-select").addEventListener("change", (ev) => {
    state.openid = ev.target.value;
    localStorage.setItem("wx.openid", state.openid);
    refresh();
  });
  $("new-user").addEventListener("click", async () => {
    const name = window.prompt(t("nickname"), state.lang === "zh" ? "小红" : "Hong");
    if (name) await newUser(name);
  });
  $("clock-go").addEventListener("click", async () => {
    const hours = Number($("clock-hours").value) || 0;
    if (hours <= 0) return;
    try {
      await call("POST", "clock", { hours });
      toast(`${t("clockMoved")} ${hours} ${t("hours")}`);
    } catch (err) { toast(String(err.message || err)); }
    refresh();
  });
  document.addEventListener("click", () => { $("submenu").hidden = true; });
  applyLang();
  refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, 1000);
}

setup();
