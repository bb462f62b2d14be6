"use strict";
(function () {
  // Chart data written by chordcli (chordcli/writers/html.py): every chord symbol is spelled
  // there, for each transposition and simplification level; this script only selects them.
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const audio = document.getElementById("audio");
  const embedded = document.getElementById("audio-data");
  const chart = document.getElementById("chart");
  // The labels are the shapes played with a capo on fret data.capo (0: the sounding chords).
  const state = { transpose: 0, capo: data.capo || 0, level: data.levels[0] };
  const chords = [];  // {el, bar, start, end, label, alternatives} in time order
  const bars = [];  // {el, start, end}
  let current = -1;

  function shift() {
    return (((state.transpose - state.capo + (data.capo || 0)) % 12) + 12) % 12;
  }

  function symbol(label) {
    return data.symbols[state.level][shift()][label];
  }

  function buildInfo() {
    const info = document.getElementById("info");
    info.replaceChildren();
    const rows = [["Key", data.keys[shift()]], ["Tempo", Math.round(data.tempo_bpm) + " bpm"],
      ["Time", data.beats_per_bar + "/4"]];
    if (data.tuning) rows.push(["Tuning", data.tuning]);
    if (data.model) rows.push(["Model", data.model]);
    if (state.capo) rows.push(["Capo", String(state.capo)]);
    for (const [name, value] of rows) {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value;
      dd.id = "info-" + name.toLowerCase();
      div.append(dt, dd);
      info.append(div);
    }
  }

  function buildChart() {
    data.bars.forEach(function (bar, b) {
      const barEl = document.createElement("div");
      barEl.className = bar.chords.length > 2 ? "bar busy" : "bar";
      barEl.dataset.start = bar.start_s;
      barEl.dataset.end = bar.end_s;
      const number = document.createElement("span");
      number.className = "bar-number";
      number.textContent = b + 1;
      barEl.append(number);
      for (const chord of bar.chords) {
        const el = document.createElement("span");
        el.className = "chord";
        el.dataset.start = chord.start_s;
        el.dataset.end = chord.end_s;
        el.dataset.label = data.labels[chord.label];
        el.style.flexGrow = chord.beats;
        if (chord.continued) el.classList.add("continued");
        if (data.labels[chord.label] === "N") el.classList.add("no-chord");
        if (chord.alternatives.length) el.classList.add("has-alternatives");
        el.addEventListener("click", function (event) {
          event.stopPropagation();
          seek(chord.start_s);
        });
        barEl.append(el);
        chords.push({ el: el, bar: b, start: chord.start_s, end: chord.end_s,
          label: chord.label, alternatives: chord.alternatives });
      }
      barEl.addEventListener("click", function () { seek(bar.start_s); });
      chart.append(barEl);
      bars.push({ el: barEl, start: bar.start_s, end: bar.end_s });
    });
  }

  function spell() {
    for (const chord of chords) {
      chord.el.textContent = symbol(chord.label);
      if (chord.alternatives.length) {
        chord.el.title = "Alternatives: " + chord.alternatives.map(function (alt) {
          return symbol(alt[0]) + " " + Math.round(alt[1] * 100) + " %";
        }).join(", ");
      }
    }
    document.getElementById("transpose").value = (state.transpose > 0 ? "+" : "") + state.transpose;
    document.getElementById("capo").value = state.capo;
    buildInfo();
  }

  function indexAt(time) {
    // The last chord starting at or before `time` (binary search). The audio clock reports a
    // time set by a seek rounded to its sample grid, so starts within a millisecond count.
    const t = time + 0.001;
    let lo = 0, hi = chords.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chords[mid].start <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function highlight(index) {
    if (index === current) return;
    if (current >= 0) {
      chords[current].el.removeAttribute("aria-current");
      bars[chords[current].bar].el.classList.remove("current");
    }
    current = index;
    const chord = chords[index];
    chord.el.setAttribute("aria-current", "true");
    const bar = bars[chord.bar].el;
    bar.classList.add("current");
    bar.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function update() {
    if (audio && chords.length) highlight(indexAt(audio.currentTime));
  }

  function tick() {
    update();
    if (audio && !audio.paused) requestAnimationFrame(tick);
  }

  function seek(time) {
    if (!audio) return;
    audio.currentTime = Math.max(0, time);
    update();
  }

  function moveBar(step) {
    if (!audio || !bars.length) return;
    const now = current >= 0 ? chords[current].bar : 0;
    const target = Math.min(bars.length - 1, Math.max(0, now + step));
    seek(bars[target].start);
  }

  function barsPerRow() {
    return getComputedStyle(chart).gridTemplateColumns.split(" ").length;
  }

  function bindControls() {
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -1, ArrowDown: 1 };
    const limits = { transpose: [-11, 11], capo: [0, 11] };
    for (const name of ["transpose", "capo"]) {
      for (const [suffix, step] of [["-down", -1], ["-up", 1]]) {
        document.getElementById(name + suffix).addEventListener("click", function () {
          const [lo, hi] = limits[name];
          state[name] = Math.min(hi, Math.max(lo, state[name] + step));
          spell();
        });
      }
    }
    const select = document.getElementById("simplify");
    for (const level of data.levels) select.add(new Option(level, level));
    select.addEventListener("change", function () { state.level = select.value; spell(); });
    document.addEventListener("keydown", function (event) {
      const tag = event.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.target === audio) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === " " && audio) {
        event.preventDefault();
        if (audio.paused) audio.play().catch(function () {}); else audio.pause();
      } else if (event.key in steps) {
        event.preventDefault();
        moveBar(steps[event.key] * (event.key.startsWith("ArrowU") ||
          event.key.startsWith("ArrowD") ? barsPerRow() : 1));
      }
    });
    if (audio) {
      audio.addEventListener("play", tick);
      for (const name of ["seeked", "timeupdate", "loadedmetadata"]) {
        audio.addEventListener(name, update);
      }
    }
  }

  function embeddedAudio(node) {
    // The audio file, written byte for byte into a page read as windows-1252 (one character
    // per byte), XORed with data-key; NUL, CR, "<" and "=" are then escaped as "=" + (byte +
    // 64). Bytes 0x80-0x9F decode to other code points: the browser's own decoder gives the
    // table back.
    const text = node.textContent;
    const high = new TextDecoder("windows-1252").decode(
      Uint8Array.from({ length: 32 }, function (_, i) { return 0x80 + i; }));
    const back = new Map();
    for (let i = 0; i < 32; i++) back.set(high.charCodeAt(i), 0x80 + i);
    function byteOf(code) {
      if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
      const b = back.get(code);
      if (b === undefined) throw new Error("character " + code + " is not a byte");
      return b;
    }
    const bytes = new Uint8Array(Number(node.dataset.bytes));
    const key = Number(node.dataset.key);
    let n = 0;
    for (let i = 0; i < text.length && n < bytes.length; i++) {
      const code = text.charCodeAt(i);
      const b = code === 0x3d ? (byteOf(text.charCodeAt(++i)) - 64) & 0xff : byteOf(code);
      bytes[n++] = b ^ key;
    }
    if (n !== bytes.length) throw new Error("the embedded audio is " + n + " bytes, not " + bytes.length);
    return URL.createObjectURL(new Blob([bytes], { type: node.dataset.type }));
  }

  function loadAudio() {
    if (!audio || !embedded) return;
    try {
      audio.src = embeddedAudio(embedded);
    } catch (error) {
      const note = document.createElement("p");
      note.className = "no-audio";
      note.textContent = "The embedded audio cannot be read (" + error.message + "): open " +
        "the file itself, not a copy re-encoded as text, or write the page with --link-audio.";
      audio.replaceWith(note);
    }
  }

  loadAudio();
  buildChart();
  bindControls();
  spell();
  update();
})();
