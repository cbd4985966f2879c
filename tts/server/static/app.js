// palette-tts web demo: plain JS, no build step. Talks to the same server's /v1 API.
// Speech is fetched as raw 16-bit PCM and played with Web Audio as it streams in; when it ends,
// the whole utterance becomes a wav in the <audio> element and the download link.
"use strict";

const $ = (id) => document.getElementById(id);
// what the browser test reads: samples received, scheduled and played, first-byte latency
const stats = (window.paletteStats = { received: 0, scheduled: 0, played: 0, firstByteMs: null, done: false });
let selectedVoice = null;
let promptBlob = null; // wav Blob of the recorded or chosen prompt
let speaking = null; // AbortController of the request in progress
let player = null; // AudioContext of the last utterance

function headers(extra = {}) {
  const key = $("api-key").value.trim();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function apiError(response) {
  try {
    const body = await response.json();
    return `${response.status}: ${body.error.message}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) throw new Error(await apiError(response));
  return response.json();
}

// --- wav encoding (16-bit mono) ---------------------------------------------------------
function wavBlob(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const text = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  text(0, "RIFF"); v.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVEfmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); text(36, "data"); v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + 2 * i, x * 32767, true);
  }
  return new Blob([buf], { type: "audio/wav" });
}

function mono(audioBuffer) {
  const out = new Float32Array(audioBuffer.length);
  for (let c = 0; c < audioBuffer.numberOfChannels; c++) {
    const ch = audioBuffer.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += ch[i] / audioBuffer.numberOfChannels;
  }
  return out;
}

// --- the prompt: a file or the microphone -------------------------------------------------
function setPrompt(blob) {
  promptBlob = blob;
  $("prompt-preview").src = URL.createObjectURL(blob);
  $("prompt-preview").hidden = false;
}

$("prompt-file").addEventListener("change", () => {
  const file = $("prompt-file").files[0];
  if (file) {
    setPrompt(file);
    if (!$("voice-name").value) $("voice-name").value = file.name.replace(/\.[^.]*$/, "");
  }
});

let recorder = null;
$("record").addEventListener("click", async () => {
  if (recorder) { recorder.stop(); return; }
  showError("");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const parts = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => parts.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      $("record").classList.remove("recording");
      $("record").innerHTML = "&#9679; Record";
      try { // the browser records webm/ogg; the server reads wav, so convert here
        const ctx = new AudioContext();
        const decoded = await ctx.decodeAudioData(await new Blob(parts).arrayBuffer());
        setPrompt(wavBlob(mono(decoded), decoded.sampleRate));
        $("record-status").textContent = `recorded ${decoded.duration.toFixed(1)} s`;
        ctx.close();
      } catch (err) { showError(`could not decode the recording: ${err.message}`); }
    };
    recorder.start();
    $("record").classList.add("recording");
    $("record").innerHTML = "&#9632; Stop recording";
    $("record-status").textContent = "recording... speak for 3 to 10 seconds";
  } catch (err) {
    showError(`microphone unavailable: ${err.message}`);
  }
});

// --- the library ----------------------------------------------------------------------
function selectVoice(id) {
  selectedVoice = id;
  document.querySelectorAll("#voices input").forEach((r) => (r.checked = r.value === id));
  $("speak").disabled = !id;
}

async function refreshVoices() {
  const { data } = await api("/v1/voices");
  const list = $("voices");
  list.replaceChildren();
  if (!data.length) list.innerHTML = '<li class="muted">no voices yet</li>';
  for (const v of data) {
    const li = document.createElement("li");
    li.innerHTML = `<label><input type="radio" name="voice"> <span class="name"></span></label>
      <span class="id"></span><button type="button" title="delete">&times;</button>`;
    li.querySelector("input").value = v.id;
    li.querySelector(".name").textContent = v.name;
    li.querySelector(".id").textContent = `${v.id} · ${v.seconds.toFixed(1)} s`;
    li.querySelector("input").addEventListener("change", () => selectVoice(v.id));
    li.querySelector("button").addEventListener("click", async () => {
      try { await api(`/v1/voices/${v.id}`, { method: "DELETE" }); } catch (err) { showError(err.message); }
      if (selectedVoice === v.id) selectVoice(null);
      refreshVoices().catch((err) => showError(err.message));
    });
    li.dataset.voice = v.id;
    list.append(li);
  }
  const ids = data.map((v) => v.id);
  selectVoice(ids.includes(selectedVoice) ? selectedVoice : ids[ids.length - 1] || null);
}

$("add-voice").addEventListener("click", async () => {
  showError("");
  if (!promptBlob) { showError("choose a prompt file or record one first"); return; }
  const form = new FormData();
  form.append("file", promptBlob, promptBlob.name || "recording.wav");
  if ($("transcript").value.trim()) form.append("transcript", $("transcript").value.trim());
  if ($("voice-name").value.trim()) form.append("name", $("voice-name").value.trim());
  $("add-voice").disabled = true;
  $("add-voice").textContent = "Encoding...";
  try {
    const voice = await api("/v1/voices", { method: "POST", body: form });
    selectedVoice = voice.id;
    await refreshVoices();
  } catch (err) {
    showError(err.message);
  } finally {
    $("add-voice").disabled = false;
    $("add-voice").textContent = "Add to the library";
  }
});

// --- speaking: stream PCM into Web Audio ----------------------------------------------
async function speak() {
  showError("");
  Object.assign(stats, { received: 0, scheduled: 0, played: 0, firstByteMs: null, done: false });
  $("result").hidden = $("download").hidden = true;
  const body = {
    model: "palette", input: $("text").value, voice: selectedVoice, response_format: "pcm",
    speed: Number($("speed").value), seed: Number($("seed").value),
  };
  speaking = new AbortController();
  $("speak").disabled = true;
  $("stop").disabled = false;
  $("status").textContent = "generating...";
  const start = performance.now();
  let ctx = null;
  try {
    const response = await fetch("/v1/audio/speech", {
      method: "POST", body: JSON.stringify(body), signal: speaking.signal,
      headers: headers({ "Content-Type": "application/json" }),
    });
    if (!response.ok) throw new Error(await apiError(response));
    const rate = Number(response.headers.get("X-Sample-Rate")) || 24000;
    if (player) player.close();
    ctx = player = new AudioContext({ sampleRate: rate });
    await ctx.resume();
    const chunks = [];
    let next = 0;
    let carry = null; // an odd byte left over between network chunks
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (stats.firstByteMs === null) stats.firstByteMs = Math.round(performance.now() - start);
      let bytes = value;
      if (carry) { bytes = new Uint8Array(carry.length + value.length); bytes.set(carry); bytes.set(value, carry.length); }
      const even = bytes.length - (bytes.length % 2);
      carry = even < bytes.length ? bytes.slice(even) : null;
      const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + even));
      if (!pcm.length) continue;
      const samples = Float32Array.from(pcm, (x) => x / 32768);
      chunks.push(samples);
      stats.received += samples.length;
      const buffer = ctx.createBuffer(1, samples.length, rate);
      buffer.copyToChannel(samples, 0);
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      source.onended = () => (stats.played += samples.length);
      next = Math.max(next, ctx.currentTime + 0.05);
      source.start(next);
      next += buffer.duration;
      stats.scheduled += samples.length;
      $("status").textContent = `playing as it arrives: ${(stats.received / rate).toFixed(1)} s received, first audio after ${stats.firstByteMs} ms`;
    }
    const all = new Float32Array(stats.received);
    let offset = 0;
    for (const c of chunks) { all.set(c, offset); offset += c.length; }
    const url = URL.createObjectURL(wavBlob(all, rate));
    $("result").src = url;
    $("result").hidden = false;
    $("download").href = url;
    $("download").hidden = false;
    $("status").textContent = `${(stats.received / rate).toFixed(2)} s of audio; first audio after ${stats.firstByteMs} ms, all in ${((performance.now() - start) / 1000).toFixed(2)} s`;
    stats.done = true;
  } catch (err) {
    if (err.name === "AbortError") $("status").textContent = "stopped";
    else { showError(err.message); $("status").textContent = ""; }
    if (ctx) ctx.close();
  } finally {
    speaking = null;
    $("speak").disabled = !selectedVoice;
    $("stop").disabled = true;
  }
}

$("speak").addEventListener("click", speak);
$("stop").addEventListener("click", () => speaking && speaking.abort());

// --- start ----------------------------------------------------------------------------
$("api-key").value = localStorage.getItem("palette-api-key") || "";
$("api-key").addEventListener("change", () => {
  localStorage.setItem("palette-api-key", $("api-key").value);
  init();
});

async function init() {
  showError("");
  try {
    const { data } = await api("/v1/models");
    $("model").textContent = `model ${data[0].id} at ${data[0].sample_rate} Hz`;
    await refreshVoices();
  } catch (err) {
    showError(err.message);
  }
}
init();
