/* Grounded QA chat widget: <script src="https://HOST/widget.js" data-title="Ask" defer></script>
 *
 * Defines <qa-chat> (Shadow DOM, no framework, no build step, no third-party requests).
 * Every piece of server text is rendered as text: never innerHTML of server data.
 * Attributes (on the script tag or a <qa-chat> element): data-title, data-theme
 * (light|dark|auto), data-endpoint (service URL, default: where this script came from),
 * data-placeholder, data-mount="none" (script tag: don't add the floating launcher),
 * data-sources (comma-separated: only these sources are searched), data-since (a day
 * YYYY-MM-DD or a span like 30d, 12w, 6m, 1y: only articles published since then).
 */
(() => {
  "use strict";
  if (window.customElements.get("qa-chat")) return;

  const script = document.currentScript;
  const scriptBase = script && script.src ? new URL(".", script.src).href : new URL("/", location.href).href;
  const MAX_TURNS = 20;
  const DAY = 86400000;
  let counter = 0;

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  // data-since: a day, or a span back from today (d, w, m = 30 days, y = 365 days).
  function sinceDay(value) {
    const text = (value || "").trim();
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
    const span = /^(\d+)\s*([dwmy])$/i.exec(text);
    if (!span) return null;
    const days = Number(span[1]) * { d: 1, w: 7, m: 30, y: 365 }[span[2].toLowerCase()];
    return isoDay(new Date(Date.now() - days * DAY));
  }

  // How old an answer is next to the day it was asked as of, when over a year.
  function ageNote(published, asOf) {
    if (!published || !asOf) return null;
    const days = (Date.parse(asOf) - Date.parse(published)) / DAY;
    if (!(days > 365)) return null;
    const years = Math.floor(days / 365);
    return `Published ${published}: ${years === 1 ? "over a year" : `${years} years`} before this answer.`;
  }

  // The answer's confidence (0..1, calibrated: the estimated chance it is right) in words.
  // 0.75 and up: right at least three times in four; 0.5 and up: right at least half the time.
  // The server sends no grounded answer below its own threshold, so "Unsure" is the low band.
  function confidenceWords(confidence) {
    if (confidence >= 0.75) return "Likely right";
    if (confidence >= 0.5) return "Possibly right";
    return "Unsure";
  }

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }

  // The thumb icons are drawn, not typed: emoji render as empty boxes where no emoji font is
  // installed. One outline of a hand, thumb up, in a 24-unit box; "down" is it turned over.
  const SVG_NS = "http://www.w3.org/2000/svg";
  const THUMB = "M7 10.5 10.6 3.2c1.6 0 2.9 1.3 2.7 2.9l-.4 3h5.4c1.5 0 2.6 1.3 2.3 2.8l-1.3 7"
    + "c-.2 1.2-1.2 2.1-2.4 2.1H7zM3 10.5h4V21H3z";

  function thumbIcon(direction) {
    const svg = document.createElementNS(SVG_NS, "svg");
    const attributes = { viewBox: "0 0 24 24", width: "16", height: "16", fill: "none",
      stroke: "currentColor", "stroke-width": "2", "stroke-linejoin": "round",
      "aria-hidden": "true", focusable: "false" };
    for (const [key, value] of Object.entries(attributes)) svg.setAttribute(key, value);
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", THUMB);
    if (direction === "down") path.setAttribute("transform", "rotate(180 12 12)");
    svg.append(path);
    return svg;
  }

  // Scroll a container, and only it, so that element sits in its middle (a quote taller
  // than the container shows from its start). Not element.scrollIntoView: that also scrolls
  // every ancestor, the host page around the widget included. The jump is instant, not
  // smooth: no motion for readers who prefer reduced motion, and none needed by the others.
  function centerIn(container, element) {
    const outer = container.getBoundingClientRect();
    const inner = element.getBoundingClientRect();
    const slack = Math.max(0, (outer.height - inner.height) / 2);
    container.scrollTop += inner.top - outer.top - slack;
  }

  // Scroll a container the least that shows all of element (its top, when it is taller).
  function showIn(container, element) {
    const outer = container.getBoundingClientRect();
    const inner = element.getBoundingClientRect();
    if (inner.bottom > outer.bottom) {
      container.scrollTop += Math.min(inner.bottom - outer.bottom, inner.top - outer.top);
    } else if (inner.top < outer.top) {
      container.scrollTop -= outer.top - inner.top;
    }
  }

  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  async function* sseEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
      if (done) return;
    }
  }

  class QaChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const id = `qa-chat-${++counter}`;
      this.mode = this.dataset.mode === "floating" ? "floating" : "inline";
      this.setAttribute("data-mode", this.mode);
      this.endpoint = (this.dataset.endpoint || scriptBase).replace(/\/?$/, "/");
      this.storageKey = `qa-chat:${this.endpoint}`;
      this.filters = {};
      const sources = (this.dataset.sources || "").split(",").map((x) => x.trim()).filter(Boolean);
      if (sources.length) this.filters.sources = sources;
      const since = sinceDay(this.dataset.since);
      if (since) this.filters.published_after = since;
      this.turns = this.load();
      const title = this.dataset.title || "Ask the articles";
      const root = this.attachShadow({ mode: "open" });

      this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
      this.input = h("textarea", {
        rows: 1, "aria-label": "Your question", maxlength: 2000,
        placeholder: this.dataset.placeholder || "Ask a question…",
        onkeydown: (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            this.submit();
          }
        },
      });
      this.sendButton = h("button", { class: "send", type: "submit", text: "Send" });
      const close = h("button", {
        class: "icon-button", type: "button", "aria-label": "Close chat", text: "✕",
        hidden: this.mode !== "floating", onclick: () => this.toggle(false),
      });
      this.panel = h("div", {
        class: "panel", id: `${id}-panel`, role: "dialog", "aria-labelledby": `${id}-title`,
        "aria-modal": "false", hidden: this.mode === "floating",
        onkeydown: (e) => { if (e.key === "Escape" && this.mode === "floating") this.toggle(false); },
      },
        h("div", { class: "header" },
          h("h2", { class: "title", id: `${id}-title`, text: title }),
          h("button", { class: "icon-button", type: "button", text: "Clear", onclick: () => this.clear() }),
          close),
        this.log,
        h("form", { class: "form", onsubmit: (e) => { e.preventDefault(); this.submit(); } },
          this.input, this.sendButton));
      root.append(h("link", { rel: "stylesheet", href: `${scriptBase}widget.css` }));
      if (this.mode === "floating") {
        this.launcher = h("button", {
          class: "launcher", type: "button", "aria-expanded": "false",
          "aria-controls": this.panel.id, "aria-label": title, text: "?",
          onclick: () => this.toggle(),
        });
        root.append(this.launcher);
      }
      root.append(this.panel);
      this.applyTheme();
      this.renderAll();
    }

    applyTheme() {
      const wanted = this.dataset.theme || "auto";
      const media = window.matchMedia("(prefers-color-scheme: dark)");
      const resolve = () => this.setAttribute("data-resolved-theme",
        wanted === "auto" ? (media.matches ? "dark" : "light") : wanted === "dark" ? "dark" : "light");
      resolve();
      if (wanted === "auto") media.addEventListener("change", resolve);
    }

    toggle(open = this.panel.hidden) {
      if (this.mode !== "floating") return;
      this.panel.hidden = !open;
      this.launcher.setAttribute("aria-expanded", String(open));
      if (open) this.input.focus();
      else this.launcher.focus();
    }

    load() {
      try {
        const saved = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
        return Array.isArray(saved) ? saved : [];
      } catch (_) {
        return [];
      }
    }

    save() {
      try {
        sessionStorage.setItem(this.storageKey, JSON.stringify(this.turns.slice(-MAX_TURNS)));
      } catch (_) { /* storage full or blocked: the conversation still works in memory */ }
    }

    clear() {
      this.turns = [];
      this.save();
      this.renderAll();
      this.input.focus();
    }

    renderAll() {
      this.log.replaceChildren();
      if (!this.turns.length) {
        this.log.append(h("p", { class: "empty", text: "Answers come from the articles, with their sources." }));
      }
      for (const turn of this.turns) {
        if (turn.role === "user") this.log.append(h("div", { class: "message user", text: turn.content }));
        else this.log.append(this.renderAnswer(h("div", { class: "message assistant" }), turn.result));
      }
      this.log.scrollTop = this.log.scrollHeight;
    }

    async submit() {
      const question = this.input.value.trim();
      if (!question || this.busy) return;
      this.busy = true;
      this.sendButton.disabled = true;
      this.input.value = "";
      const empty = this.log.querySelector(".empty");
      if (empty) empty.remove();
      this.turns.push({ role: "user", content: question });
      this.log.append(h("div", { class: "message user", text: question }));
      const bubble = h("div", { class: "message assistant", "aria-busy": "true", text: "…" });
      this.log.append(bubble);
      this.log.scrollTop = this.log.scrollHeight;
      const messages = this.turns.slice(-MAX_TURNS).map((t) => ({ role: t.role, content: t.content }));
      try {
        const result = await this.stream(messages, bubble);
        this.turns.push({ role: "assistant", content: result.answer, result });
        this.renderAnswer(bubble, result);
      } catch (error) {
        this.turns.pop();
        bubble.className = "message assistant error";
        bubble.textContent = error && error.userMessage ? error.userMessage : "The service could not be reached.";
      } finally {
        bubble.removeAttribute("aria-busy");
        this.save();
        this.busy = false;
        this.sendButton.disabled = false;
        this.log.scrollTop = this.log.scrollHeight;
      }
    }

    async stream(messages, bubble) {
      const response = await fetch(`${this.endpoint}api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(Object.keys(this.filters).length
          ? { messages, stream: true, filters: this.filters } : { messages, stream: true }),
      });
      if (!response.ok) {
        let message = `The service answered ${response.status}.`;
        try { message = (await response.json()).error.message || message; } catch (_) { /* keep */ }
        throw Object.assign(new Error(message), { userMessage: message });
      }
      let text = "";
      for await (const { event, data } of sseEvents(response)) {
        if (event === "delta") {
          text += data.text;
          bubble.textContent = text;
        } else if (event === "done") {
          return data;
        }
      }
      throw new Error("the stream ended early");
    }

    renderAnswer(bubble, result) {
      bubble.replaceChildren();
      if (!result) return bubble;
      if (!result.grounded) {
        bubble.classList.add("abstain");
        const why = result.reason === "no_matching_articles"
          ? "No article matches the sources and dates this chat searches." : "No article answers this.";
        bubble.append(result.answer, h("span", { class: "note", text: why }));
        bubble.append(this.thumbs(result));
        return bubble;
      }
      const byNumber = new Map(result.citations.map((c) => [String(c.n), c]));
      const first = result.citations[0];
      // The short answer inside the quoted sentence, highlighted (as text, never HTML).
      const span = result.answer_span;
      const from = span && first ? span.start - first.start : -1;
      const to = from + (span ? span.text.length : 0);
      for (const part of result.answer.split(/(\[\d+\])/)) {
        const citation = byNumber.get(part.slice(1, -1));
        if (/^\[\d+\]$/.test(part) && citation) bubble.append(this.chip(citation, result, bubble));
        else if (part && from >= 0 && part.slice(from, to) === span.text) {
          bubble.append(part.slice(0, from), h("mark", { class: "answer-span", text: span.text }),
            part.slice(to));
        } else if (part) bubble.append(part);
      }
      const label = this.confidenceLabel(result.confidence);
      if (label) bubble.append(label);
      if (first) {
        const origin = [first.source, first.published].filter(Boolean).join(" · ");
        if (origin) bubble.append(h("span", { class: "origin", text: origin }));
        const age = ageNote(first.published, result.as_of);
        if (age) bubble.append(h("span", { class: "note age", text: age }));
      }
      bubble.append(this.thumbs(result));
      return bubble;
    }

    // "Likely right" beside a grounded answer; the number is in the tooltip and, for screen
    // readers, in visually hidden text (all of it text nodes, never HTML).
    confidenceLabel(confidence) {
      if (typeof confidence !== "number" || !Number.isFinite(confidence)) return null;
      const number = confidence.toFixed(2);
      const words = confidenceWords(confidence);
      return h("span", {
        class: "confidence", "data-confidence": number,
        title: `Confidence ${number}: the estimated chance this answer is right`,
      },
        h("span", { class: "confidence-words", text: words }),
        h("span", { class: "visually-hidden",
          text: ` (confidence ${number}: the estimated chance this answer is right)` }));
    }

    thumbs(result) {
      const bar = h("span", { class: "feedback", role: "group", "aria-label": "Rate this answer" });
      if (!result.answer_id) return bar;
      const send = async (rating, button) => {
        for (const b of bar.querySelectorAll("button")) b.disabled = true;
        button.setAttribute("aria-pressed", "true");
        try {
          const r = await fetch(`${this.endpoint}api/feedback`, {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ answer_id: result.answer_id, rating }),
          });
          bar.append(h("span", { class: "thanks", text: r.ok ? "Thanks!" : "Not recorded." }));
        } catch (_) {
          bar.append(h("span", { class: "thanks", text: "Not recorded." }));
        }
      };
      // The icon is hidden from assistive technology: the aria-label names the button.
      const up = h("button", { class: "thumb", type: "button", "aria-label": "Helpful",
        onclick: () => send("up", up) }, thumbIcon("up"));
      const down = h("button", { class: "thumb", type: "button", "aria-label": "Not helpful",
        onclick: () => send("down", down) }, thumbIcon("down"));
      bar.append(up, down);
      return bar;
    }

    chip(citation, result, bubble) {
      const chip = h("button", {
        class: "chip", type: "button", "aria-expanded": "false", text: String(citation.n),
        "aria-label": `Source ${citation.n}: ${citation.title}`,
      });
      let box = null;
      chip.addEventListener("click", async () => {
        if (box) {
          box.hidden = !box.hidden;
          chip.setAttribute("aria-expanded", String(!box.hidden));
          if (!box.hidden) this.revealQuote(box); // hiding it dropped its scroll position
          return;
        }
        box = h("span", { class: "source", role: "group", "aria-label": `Source ${citation.n}` });
        bubble.append(box);
        chip.setAttribute("aria-expanded", "true");
        await this.fillSource(box, citation, result.passages || []);
        this.revealQuote(box);
      });
      return chip;
    }

    // The article text around a quote can open with photo captions or a long preamble:
    // bring the quote to the middle of the text's scroll box, then the box into the log.
    revealQuote(box) {
      const text = box.querySelector(".source-text");
      const quote = text && text.querySelector("mark");
      if (quote) centerIn(text, quote);
      showIn(this.log, box);
    }

    async fillSource(box, citation, passages) {
      const meta = h("span", { class: "source-meta" });
      if (citation.published) meta.append(citation.published);
      // The link opens the article scrolled to the quoted sentence (a text fragment).
      const href = safeUrl(citation.link || "") || (citation.url && safeUrl(citation.url));
      if (href) {
        if (citation.published) meta.append(" · ");
        meta.append(h("a", { href, target: "_blank", rel: "noopener noreferrer", text: "Read the article" }));
      }
      const body = h("span", { class: "source-text" });
      box.append(h("span", { class: "source-title", text: citation.title }), meta, body);
      let context = passages.find((p) => p.article_id === citation.article_id
        && p.start <= citation.start && citation.end <= p.end);
      if (!context) {
        try {
          const r = await fetch(`${this.endpoint}api/articles/${encodeURIComponent(citation.article_id)}`);
          const article = await r.json();
          const start = Math.max(0, citation.start - 300);
          context = { start, text: article.text.slice(start, citation.end + 300) };
        } catch (_) {
          context = { start: citation.start, text: citation.quote };
        }
      }
      const from = citation.start - context.start;
      const to = citation.end - context.start;
      body.append(context.text.slice(0, from), h("mark", { text: context.text.slice(from, to) }),
        context.text.slice(to));
    }
  }

  window.customElements.define("qa-chat", QaChat);

  if (script && script.dataset.mount !== "none" && !document.querySelector("qa-chat")) {
    const mount = () => {
      const element = document.createElement("qa-chat");
      for (const [key, value] of Object.entries(script.dataset)) {
        if (key !== "mount") element.dataset[key] = value;
      }
      element.dataset.mode = "floating";
      document.body.append(element);
    };
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount);
  }
})();
