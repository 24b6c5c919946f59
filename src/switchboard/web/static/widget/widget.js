/*! Switchboard web chat widget — one tag, no framework:
 *  <script src="https://desk.example/webchat/widget.js" data-channel="ID" async></script>
 *  Optional: data-lang="ru|en" (default: the page's <html lang>), data-open="true".
 *  Protocol: docs/channels.md (web chat). */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-channel][src*='widget.js']");
  if (!script || window.__switchboardChat) return;
  window.__switchboardChat = true;
  var CHANNEL = String(script.getAttribute("data-channel") || "").replace(/\D/g, "");
  if (!CHANNEL) return;
  var ORIGIN = new URL(script.src, location.href).origin;
  var BASE = ORIGIN + "/webchat/" + CHANNEL;
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en");
  var RU = lang.toLowerCase().indexOf("ru") === 0;
  var T = RU ? {
    open: "Открыть чат", close: "Свернуть чат", title: "Чат с поддержкой", online: "Мы на связи",
    offline: "Сейчас не работаем — оставьте сообщение, ответим", opens: "Откроемся ", write: "Сообщение",
    send: "Отправить", attach: "Прикрепить файл", name: "Имя", phone: "Телефон", email: "Email",
    consent: "Согласен(на) на обработку персональных данных", start: "Начать чат", leave: "Отправить сообщение",
    prechat: "Представьтесь, пожалуйста", offlineForm: "Оставьте контакты — ответим, как только начнём работу",
    queue: "Вы {n}-й в очереди", wait: ", ожидание около {m} мин.", joined: "К чату подключился(ась) {o}",
    joinedAnon: "Оператор подключился к чату", typing: "Оператор печатает…", closedNote: "Разговор завершён",
    rateQ: "Оцените, пожалуйста, разговор", comment: "Комментарий (необязательно)", rateSend: "Оценить",
    thanks: "Спасибо за оценку!", stars: ["Ужасно", "Плохо", "Нормально", "Хорошо", "Отлично"],
    failed: "Не отправлено: ", retry: "Нет связи, переподключаемся…", you: "Вы", operator: "Оператор",
    bot: "Автоответ", required: "обязательно", tooBig: "Файл слишком большой (до {s})", badType: "Такой тип файла не принимаем",
    sending: "отправляется", delivered: "доставлено", read: "прочитано", sizeUnits: ["Б", "КБ", "МБ"]
  } : {
    open: "Open chat", close: "Minimize chat", title: "Chat with us", online: "We are online",
    offline: "We are offline now: leave a message and we will reply", opens: "Back at ", write: "Message",
    send: "Send", attach: "Attach a file", name: "Name", phone: "Phone", email: "Email",
    consent: "I agree to the processing of my personal data", start: "Start chat", leave: "Send message",
    prechat: "Please introduce yourself", offlineForm: "Leave your contacts and we will reply when we are back",
    queue: "You are number {n} in the queue", wait: ", about {m} min", joined: "{o} joined the chat",
    joinedAnon: "An operator joined the chat", typing: "The operator is typing…", closedNote: "The conversation is closed",
    rateQ: "Please rate the conversation", comment: "Comment (optional)", rateSend: "Rate",
    thanks: "Thank you for your rating!", stars: ["Awful", "Poor", "Fair", "Good", "Excellent"],
    failed: "Not sent: ", retry: "Connection lost, reconnecting…", you: "You", operator: "Operator",
    bot: "Automatic reply", required: "required", tooBig: "The file is too large (up to {s})", badType: "This file type is not accepted",
    sending: "sending", delivered: "delivered", read: "read", sizeUnits: ["B", "KB", "MB"]
  };

  // --- state, kept in sessionStorage for an instant redraw after a reload ---------------------------------------
  var KEY = "switchboard-chat-" + CHANNEL;
  var TOKEN_KEY = "switchboard-visitor";
  var S = load() || { messages: [], lastId: null, pending: [], open: false, visitor: null, state: null, rate: null, rated: {} };
  var config = null, ws = null, ready = false, attempts = 0, timer = null, inFlight = null, lastTyping = 0;
  var typingTimer = null, queueInfo = null, receiptTimer = null, delivered = {}, readSent = {}, stopped = false;

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function save() {
    S.messages = S.messages.slice(-200);
    try { sessionStorage.setItem(KEY, JSON.stringify(S)); } catch (e) { /* private mode: memory only */ }
  }
  function token() { try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function setToken(t) { try { localStorage.setItem(TOKEN_KEY, t); } catch (e) { /* cookie only */ } }
  function uid() {
    if (window.crypto && crypto.getRandomValues) {
      var a = new Uint8Array(12); crypto.getRandomValues(a);
      return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    }
    return (Date.now().toString(36) + Math.random().toString(36).slice(2)).slice(0, 24);
  }

  // --- DOM --------------------------------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-switchboard-chat", CHANNEL);
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = "<style>" + css() + "</style>" +
    "<button class='launcher' type='button' aria-haspopup='dialog' aria-expanded='false' aria-controls='sb-panel'>" +
    "<svg aria-hidden='true' viewBox='0 0 24 24' width='28' height='28'><path fill='currentColor' d='M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z'/></svg>" +
    "<span class='badge' hidden></span></button>" +
    "<section id='sb-panel' class='panel' role='dialog' aria-labelledby='sb-title' hidden>" +
    "<header><div><h2 id='sb-title'></h2><p class='presence' id='sb-presence'></p></div>" +
    "<button type='button' class='close'><span aria-hidden='true'>×</span></button></header>" +
    "<p class='banner' role='status' aria-live='polite'></p>" +
    "<ol class='log' role='log' aria-live='polite' aria-label='" + T.title + "'></ol>" +
    "<p class='typing' aria-live='polite'></p>" +
    "<form class='intro' hidden novalidate><p class='intro-title'></p><div class='fields'></div>" +
    "<label class='consent'><input type='checkbox' name='consent'> <span>" + T.consent + "</span></label>" +
    "<textarea name='text' rows='3' hidden></textarea><p class='err' role='alert'></p>" +
    "<button type='submit' class='primary'></button></form>" +
    "<form class='rating' hidden><fieldset><legend>" + T.rateQ + "</legend><div class='stars'></div></fieldset>" +
    "<label><span class='vh'>" + T.comment + "</span><textarea name='comment' rows='2' maxlength='2000' placeholder='" + T.comment + "'></textarea></label>" +
    "<button type='submit' class='primary'>" + T.rateSend + "</button></form>" +
    "<p class='err main-err' role='alert'></p>" +
    "<form class='composer'><label class='attach' title='" + T.attach + "'><span class='vh'>" + T.attach + "</span>" +
    "<input type='file' class='file'><svg aria-hidden='true' viewBox='0 0 24 24' width='22' height='22'><path fill='currentColor' d='M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9V15.5a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z'/></svg></label>" +
    "<label class='grow'><span class='vh'>" + T.write + "</span><textarea name='text' rows='1' maxlength='4000' placeholder='" + T.write + "'></textarea></label>" +
    "<button type='submit' class='send' aria-label='" + T.send + "'><svg aria-hidden='true' viewBox='0 0 24 24' width='22' height='22'><path fill='currentColor' d='M2 21l21-9L2 3v7l15 2-15 2z'/></svg></button></form>" +
    "</section>";
  function $(sel) { return root.querySelector(sel); }
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), banner = $(".banner"), typingEl = $(".typing");
  var intro = $(".intro"), rating = $(".rating"), composer = $(".composer"), input = composer.querySelector("textarea");
  var fileInput = $(".file"), mainErr = $(".main-err"), closeBtn = $(".close");
  launcher.setAttribute("aria-label", T.open);
  closeBtn.setAttribute("aria-label", T.close);
  $("#sb-title").textContent = T.title;
  var stars = $(".stars");
  for (var i = 1; i <= 5; i++) {
    stars.insertAdjacentHTML("beforeend", "<label><input type='radio' name='score' value='" + i + "'><span aria-hidden='true'>★</span><span class='vh'>" + i + " — " + T.stars[i - 1] + "</span></label>");
  }
  (document.body || document.documentElement).appendChild(host);

  // --- drawing ----------------------------------------------------------------------------------------------------
  function fmtSize(n) {
    var u = T.sizeUnits, k = 0;
    while (n >= 1024 && k < 2) { n /= 1024; k++; }
    return (k ? n.toFixed(1) : n) + " " + u[k];
  }
  function item(m) {
    var li = document.createElement("li");
    li.className = "msg " + (m.from === "visitor" ? "mine" : m.from);
    li.setAttribute("data-id", m.id || "");
    if (m.client_id) li.setAttribute("data-client-id", m.client_id);
    var who = document.createElement("span");
    who.className = "who vh-sm";
    who.textContent = m.from === "visitor" ? T.you : (m.from === "operator" ? (m.operator || T.operator) : T.bot);
    li.appendChild(who);
    if (m.text) {
      var p = document.createElement("p");
      p.textContent = m.text;
      li.appendChild(p);
    }
    (m.attachments || []).forEach(function (a) {
      var url = a.url && a.url.charAt(0) === "/" ? ORIGIN + a.url : a.url;
      var el;
      if (/^image\//.test(a.content_type) && url) {
        el = document.createElement("img");
        el.src = url; el.alt = a.name; el.loading = "lazy";
      } else {
        el = document.createElement("a");
        el.href = url || "#"; el.textContent = a.name + " (" + fmtSize(a.size) + ")";
        el.target = "_blank"; el.rel = "noopener";
      }
      li.appendChild(el);
    });
    var meta = document.createElement("span");
    meta.className = "meta";
    var when = m.created_at ? new Date(m.created_at) : null;
    var status = m.failed ? T.failed + m.failed : (m.id ? (m.from === "visitor" ? "" : "") : T.sending);
    meta.textContent = (when ? when.toLocaleTimeString(RU ? "ru" : "en", { hour: "2-digit", minute: "2-digit" }) : "") + (status ? " · " + status : "");
    if (m.failed) li.classList.add("failed");
    li.appendChild(meta);
    return li;
  }
  function drawLog() {
    log.textContent = "";
    S.messages.forEach(function (m) { log.appendChild(item(m)); });
    log.scrollTop = log.scrollHeight;
  }
  function add(m) {
    var known = -1;
    for (var j = 0; j < S.messages.length; j++) {
      var x = S.messages[j];
      if ((m.id && x.id === m.id) || (m.client_id && x.client_id === m.client_id && x.from === "visitor")) { known = j; break; }
    }
    if (known >= 0) {
      S.messages[known] = m;
      var old = log.children[known];
      if (old) log.replaceChild(item(m), old); else drawLog();
    } else {
      S.messages.push(m);
      S.messages.sort(function (a, b) { return (a.id || 1e18) - (b.id || 1e18); });
      drawLog();
    }
    if (m.id && (S.lastId === null || m.id > S.lastId)) S.lastId = m.id;
    save();
  }
  function presence() {
    var el = $("#sb-presence");
    if (!config) { el.textContent = ""; return; }
    var text = config.online ? T.online : T.offline;
    if (!config.online && config.next_opening) {
      text += ". " + T.opens + new Date(config.next_opening).toLocaleString(RU ? "ru" : "en", { weekday: "short", hour: "2-digit", minute: "2-digit" });
    }
    el.textContent = text;
    if (config.title) $("#sb-title").textContent = config.title;
  }
  function drawBanner() {
    var text = "";
    var st = S.state;
    if (st && st.status === "closed") text = T.closedNote;
    else if (st && (st.status === "assigned" || st.status === "waiting")) text = st.operator ? T.joined.replace("{o}", st.operator) : T.joinedAnon;
    else if (queueInfo) {
      text = T.queue.replace("{n}", queueInfo.position);
      if (queueInfo.estimated_wait_s != null) text += T.wait.replace("{m}", Math.max(1, Math.round(queueInfo.estimated_wait_s / 60)));
    }
    if (!ready && S.messages.length && attempts > 1) text = T.retry;
    banner.textContent = text;
    banner.hidden = !text;
  }
  function needIntro() {
    if (!config || (S.visitor && S.visitor.introduced)) return null;
    var offline = !config.online && config.offline_requires_contact && !(S.visitor && (S.visitor.phone || S.visitor.email));
    if (offline) return "offline";
    if (config.prechat_fields.length && !S.messages.length) return "prechat";
    return null;
  }
  function drawForms() {
    var mode = needIntro();
    intro.hidden = !mode;
    composer.hidden = !!mode;
    if (mode) buildIntro(mode);
    var r = S.rate && !S.rated[S.rate];
    rating.hidden = !r;
  }
  var builtMode = null;
  function buildIntro(mode) {
    if (builtMode === mode) return;
    builtMode = mode;
    var fields = mode === "offline"
      ? [{ name: "name", required: false }, { name: "email", required: false }, { name: "phone", required: false }]
      : config.prechat_fields;
    intro.querySelector(".intro-title").textContent = mode === "offline" ? T.offlineForm : T.prechat;
    var box = intro.querySelector(".fields");
    box.textContent = "";
    fields.forEach(function (f) {
      var label = document.createElement("label");
      var span = document.createElement("span");
      span.textContent = T[f.name] + (f.required ? " (" + T.required + ")" : "");
      var field = document.createElement("input");
      field.name = f.name;
      field.type = f.name === "email" ? "email" : (f.name === "phone" ? "tel" : "text");
      field.autocomplete = f.name === "name" ? "name" : (f.name === "email" ? "email" : "tel");
      if (f.required) field.required = true;
      label.appendChild(span); label.appendChild(field); box.appendChild(label);
    });
    intro.querySelector(".consent").hidden = !config.consent_required;
    var text = intro.querySelector("textarea");
    text.hidden = mode !== "offline";
    text.setAttribute("aria-label", T.write);
    text.placeholder = T.write;
    intro.querySelector("button").textContent = mode === "offline" ? T.leave : T.start;
  }
  function showPanel(open) {
    S.open = open; save();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open;
    if (open) {
      $(".badge").hidden = true;
      connect();
      drawLog(); drawForms(); drawBanner();
      var first = intro.hidden ? input : intro.querySelector("input");
      if (first) setTimeout(function () { first.focus(); }, 0);
      markRead();
    } else {
      launcher.focus();
    }
  }

  // --- the socket -------------------------------------------------------------------------------------------------
  function connect() {
    if (ws || stopped) return;
    var t = token();
    ready = false;
    ws = new WebSocket(BASE.replace(/^http/, "ws") + "/ws" + (t ? "?visitor=" + encodeURIComponent(t) : ""));
    ws.onopen = function () {
      var utm = {};
      new URLSearchParams(location.search).forEach(function (v, k) { if (/^utm_/.test(k)) utm[k] = v; });
      send({ type: "hello", last_id: S.lastId, page: location.href, referrer: document.referrer || null, utm: utm, language: RU ? "ru" : "en" });
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      (ON[f.type] || function () {})(f);
    };
    ws.onclose = function (ev) {
      ws = null; ready = false; inFlight = null;
      if (ev.code === 4401) { try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* none */ } }
      if (ev.code === 4403 || ev.code === 4404 || ev.code === 4400) { stopped = true; showError(ev.reason); return; }
      attempts++;
      var delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.75 + Math.random() / 2);
      if (ev.code === 1008) delay = Math.max(delay, 5000);
      drawBanner();
      clearTimeout(timer);
      timer = setTimeout(connect, delay);
    };
  }
  function send(f) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(f)); return true; }
    return false;
  }
  function flush() {
    if (!ready || inFlight || !S.pending.length) return;
    inFlight = S.pending[0];
    if (!send({ type: "message", client_id: inFlight.client_id, text: inFlight.text, attachments: inFlight.attachments })) inFlight = null;
  }
  function showError(text) { mainErr.textContent = text || ""; }
  var ON = {
    welcome: function (f) {
      if (f.token) setToken(f.token);
      S.visitor = f.visitor;
      if (config) { config.online = f.online; config.next_opening = f.next_opening; presence(); }
      save(); drawForms();
    },
    message: function (f) {
      var m = f.message;
      add(m);
      if (m.from !== "visitor") {
        delivered[m.id] = true; scheduleReceipts();
        if (panel.hidden) { var b = $(".badge"); b.hidden = false; b.textContent = "•"; }
        typingEl.textContent = "";
      }
    },
    ready: function () { ready = true; attempts = 0; drawBanner(); flush(); markRead(); },
    ack: function (f) {
      S.pending = S.pending.filter(function (p) { return p.client_id !== f.client_id; });
      inFlight = null;
      add(f.message);
      drawForms(); flush();
    },
    error: function (f) {
      if (f.field === "email" && f.ref && S.pending.length) { builtMode = null; if (S.visitor) S.visitor.introduced = false; }
      var pend = S.pending.filter(function (p) { return p.client_id === f.ref; })[0];
      if (pend) {
        inFlight = null;
        if (f.field === null) { setTimeout(flush, 2000); return; }
        S.pending = S.pending.filter(function (p) { return p !== pend; });
        add({ client_id: pend.client_id, from: "visitor", text: pend.text, attachments: [], failed: f.detail });
        flush();
      } else if (f.ref === "introduce") {
        intro.querySelector(".err").textContent = f.detail;
      } else {
        showError(f.detail);
      }
      drawForms();
    },
    introduced: function (f) {
      S.visitor = f.visitor; save();
      var text = intro.querySelector("textarea");
      if (!text.hidden && text.value.trim()) { queueMessage(text.value.trim(), []); text.value = ""; }
      drawForms();
      input.focus();
    },
    state: function (f) {
      S.state = f; if (f.status !== "new" && f.status !== "queued" && f.status !== "offered") queueInfo = null;
      if (f.status === "closed" && !f.rated) S.rate = f.conversation_id;
      save(); drawBanner(); drawForms();
    },
    queue: function (f) { queueInfo = f; drawBanner(); },
    typing: function () {
      typingEl.textContent = T.typing;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingEl.textContent = ""; }, 5000);
    },
    rate: function (f) { S.rate = f.conversation_id; save(); drawForms(); },
    rated: function (f) { S.rated[f.conversation_id] = true; save(); drawForms(); banner.textContent = T.thanks; banner.hidden = false; },
    pong: function () {}
  };
  function scheduleReceipts() {
    clearTimeout(receiptTimer);
    receiptTimer = setTimeout(function () {
      var ids = Object.keys(delivered).map(Number);
      if (ids.length && send({ type: "receipt", status: "delivered", ids: ids.slice(0, 200) })) delivered = {};
      markRead();
    }, 200);
  }
  function markRead() {
    if (panel.hidden || document.visibilityState !== "visible" || !ready) return;
    var ids = S.messages.filter(function (m) { return m.id && m.from !== "visitor" && !readSent[m.id] && m.status !== "read"; })
      .map(function (m) { return m.id; });
    if (ids.length && send({ type: "receipt", status: "read", ids: ids.slice(-200) })) ids.forEach(function (id) { readSent[id] = true; });
  }
  function queueMessage(text, attachments) {
    var m = { client_id: uid(), text: text, attachments: attachments };
    S.pending.push(m);
    add({ client_id: m.client_id, from: "visitor", text: text, attachments: [], created_at: new Date().toISOString() });
    connect(); flush();
  }

  // --- events -----------------------------------------------------------------------------------------------------
  launcher.addEventListener("click", function () { showPanel(true); });
  closeBtn.addEventListener("click", function () { showPanel(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") showPanel(false); });
  document.addEventListener("visibilitychange", markRead);
  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    showError("");
    queueMessage(text, []);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit")); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - lastTyping > 2000 && ready && S.messages.length) { lastTyping = now; send({ type: "typing" }); }
  });
  intro.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = { type: "introduce", consent: intro.querySelector("[name=consent]").checked };
    Array.prototype.forEach.call(intro.querySelectorAll(".fields input"), function (f) { data[f.name] = f.value.trim(); });
    intro.querySelector(".err").textContent = "";
    var anything = data.name || data.email || data.phone;
    if (!anything && builtMode === "prechat" && !config.prechat_fields.some(function (f) { return f.required; })) {
      S.visitor = S.visitor || {}; S.visitor.introduced = true; save(); drawForms(); input.focus(); return;
    }
    connect();
    var tries = 0;
    (function go() { if (!send(data) && tries++ < 50) setTimeout(go, 100); })();
  });
  rating.addEventListener("submit", function (e) {
    e.preventDefault();
    var picked = rating.querySelector("input[name=score]:checked");
    if (!picked || !S.rate) return;
    send({ type: "rate", conversation_id: S.rate, score: Number(picked.value), comment: rating.querySelector("textarea").value });
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file || !config) return;
    if (file.size > config.max_file_bytes) { showError(T.tooBig.replace("{s}", fmtSize(config.max_file_bytes))); return; }
    if (config.file_types.indexOf((file.type || "").toLowerCase()) < 0) { showError(T.badType); return; }
    var headers = { "Content-Type": file.type };
    var t = token();
    if (t) headers["X-Visitor-Token"] = t;
    fetch(BASE + "/files?name=" + encodeURIComponent(file.name), { method: "POST", body: file, headers: headers, credentials: "include" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) {
        if (!r.ok) { showError(r.body.detail || "error"); return; }
        var text = input.value.trim(); input.value = "";
        var m = { client_id: uid(), text: text, attachments: [r.body.sha256] };
        S.pending.push(m);
        add({ client_id: m.client_id, from: "visitor", text: text, attachments: [{ name: r.body.name, content_type: r.body.content_type, size: r.body.size, url: r.body.url }], created_at: new Date().toISOString() });
        flush();
      })["catch"](function () { showError(T.retry); });
  });

  // --- start ------------------------------------------------------------------------------------------------------
  drawLog();
  fetch(BASE + "/config", { credentials: "include" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (c) {
      if (!c) return;
      config = c;
      presence(); drawForms();
      if (S.open || script.getAttribute("data-open") === "true") showPanel(true);
      else if (S.messages.length || S.pending.length) connect();
    })["catch"](function () { /* the page works without its chat */ });

  function css() {
    return ":host{all:initial}*{box-sizing:border-box;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
      ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
      ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;background:#2457d6;color:#fff;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483000}" +
      ".launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}" +
      ".badge{position:absolute;top:4px;right:6px;width:14px;height:14px;border-radius:50%;background:#e5484d;color:#e5484d;font-size:0}" +
      ".panel{position:fixed;right:20px;bottom:20px;width:370px;height:min(600px,calc(100vh - 40px));display:flex;flex-direction:column;background:#fff;color:#1b1f24;border-radius:14px;box-shadow:0 8px 32px rgba(0,0,0,.28);overflow:hidden;z-index:2147483000}" +
      ".panel[hidden],[hidden]{display:none!important}" +
      "header{display:flex;justify-content:space-between;align-items:flex-start;padding:14px 16px;background:#2457d6;color:#fff}" +
      "h2{margin:0;font-size:17px;font-weight:600}.presence{margin:2px 0 0;font-size:13px;opacity:.9}" +
      ".close{background:none;border:0;color:#fff;font-size:26px;line-height:1;cursor:pointer;padding:0 4px}" +
      ".banner{margin:0;padding:8px 16px;background:#eef3ff;color:#1d3d91;font-size:13px}" +
      ".log{list-style:none;margin:0;padding:12px;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px}" +
      ".msg{max-width:82%;padding:8px 12px;border-radius:12px;background:#f1f3f5;align-self:flex-start;word-wrap:break-word}" +
      ".msg.mine{align-self:flex-end;background:#2457d6;color:#fff}.msg.system{background:#fff8e1}.msg.failed{background:#fde8e8;color:#8a1c1c}" +
      ".msg p{margin:0;white-space:pre-wrap}.msg img{display:block;max-width:100%;border-radius:8px;margin-top:4px}.msg a{color:inherit}" +
      ".who{display:block;font-size:12px;font-weight:600;opacity:.8}.mine .who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
      ".meta{display:block;font-size:11px;opacity:.7;margin-top:2px;text-align:right}" +
      ".typing{margin:0;padding:0 16px;min-height:18px;font-size:12px;color:#5c6670}" +
      "form{padding:10px 12px;border-top:1px solid #e3e6ea}.intro label,.rating label{display:block;margin-bottom:8px}" +
      ".intro label span{display:block;font-size:13px;margin-bottom:2px}.intro input[type=text],.intro input[type=email],.intro input[type=tel],textarea{width:100%;padding:8px;border:1px solid #b9c0c8;border-radius:8px;font:inherit;resize:none}" +
      ".consent{display:flex!important;gap:6px;align-items:flex-start;font-size:13px}.consent span{display:inline!important}" +
      ".primary{width:100%;padding:10px;border:0;border-radius:8px;background:#2457d6;color:#fff;font-weight:600;cursor:pointer}" +
      ".err{color:#b42318;font-size:13px;margin:4px 0}.main-err{padding:0 16px;margin:0}.main-err:empty,.err:empty{display:none}" +
      ".intro-title{margin:0 0 8px;font-weight:600}fieldset{border:0;margin:0;padding:0}legend{font-weight:600;margin-bottom:4px}" +
      ".stars{display:flex;gap:4px}.stars label{margin:0;cursor:pointer;font-size:28px;color:#c4c9d0}.stars input{position:absolute;opacity:0}" +
      ".stars label:has(input:checked),.stars label:has(~ label input:checked){color:#f5a623}.stars input:focus-visible+span{outline:3px solid #f5a623}" +
      ".composer{display:flex;gap:6px;align-items:flex-end}.grow{flex:1}.composer textarea{max-height:120px}" +
      ".attach,.send{display:flex;align-items:center;justify-content:center;width:40px;height:40px;border:0;border-radius:8px;background:#f1f3f5;color:#2457d6;cursor:pointer}" +
      ".attach input{position:absolute;opacity:0;width:1px;height:1px}.attach:focus-within{outline:3px solid #f5a623}.send{background:#2457d6;color:#fff}" +
      "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}.launcher{right:12px;bottom:12px}}" +
      "@media (prefers-reduced-motion:no-preference){.panel{animation:sb-in .18s ease-out}@keyframes sb-in{from{opacity:0;transform:translateY(12px)}}}";
  }
})();
