// The latent explorer: the autoencoder's decoder run in the page, on the data in explorer-data.js (format:
// multimnist/latent/explorer.py; `decode` there is this decoder in numpy). Plain JavaScript, no library: it works
// from file://. window.multimnistExplorer exposes decode, sample and classMean for tests and the console.
(function () {
  "use strict";
  var root = document.getElementById("explorer");
  var D = window.MULTIMNIST_EXPLORER;
  if (!root) { return; }
  if (!D) {
    root.textContent = "The explorer's data (explorer-data.js, beside this page) is missing.";
    return;
  }
  var H = D.height, W = D.width, L = D.latent;

  // --- arrays: base64 of little-endian float32, float16, or int8 with a float32 scale per column ---
  function bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }
  function halfToFloat(h) {
    var sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) { return sign * frac * Math.pow(2, -24); }
    if (exp === 31) { return frac ? NaN : sign * Infinity; }
    return sign * (1 + frac / 1024) * Math.pow(2, exp - 15);
  }
  function unpack(d) {
    var raw = bytes(d.data), view = new DataView(raw.buffer), n = d.shape.reduce(function (a, b) { return a * b; }, 1);
    var out = new Float32Array(n), i;
    if (d.dtype === "float32") {
      for (i = 0; i < n; i++) { out[i] = view.getFloat32(4 * i, true); }
    } else if (d.dtype === "float16") {
      for (i = 0; i < n; i++) { out[i] = halfToFloat(view.getUint16(2 * i, true)); }
    } else if (d.dtype === "int8") {
      var scale = unpack({dtype: "float32", shape: [d.shape[d.shape.length - 1]], data: d.scale}), cols = scale.length;
      for (i = 0; i < n; i++) { out[i] = Math.fround(view.getInt8(i) * scale[i % cols]); }
    } else {
      throw new Error("unknown dtype " + d.dtype);
    }
    return out;
  }

  // --- the decoder: dense layers, kernel (in, out) row-major, then the activation ---
  var layers = D.decoder.map(function (l) {
    return {kernel: unpack(l.kernel), bias: unpack(l.bias), n_in: l.kernel.shape[0], n_out: l.kernel.shape[1],
            activation: l.activation, slope: l.negative_slope};
  });
  function activate(h, name, slope) {
    for (var j = 0; j < h.length; j++) {
      var v = h[j];
      if (name === "relu") { h[j] = v > 0 ? v : 0; }
      else if (name === "leaky_relu") { h[j] = v >= 0 ? v : slope * v; }
      else if (name === "sigmoid") { h[j] = 1 / (1 + Math.exp(-v)); }
      else if (name === "tanh") { h[j] = Math.tanh(v); }
    }
  }
  function decode(code) {  // (L) -> (H * W) pixels in [0, 1]
    var h = Float64Array.from(code);
    layers.forEach(function (layer) {
      var out = Float64Array.from(layer.bias), k = layer.kernel, n = layer.n_out;
      for (var i = 0; i < layer.n_in; i++) {
        var x = h[i];
        if (x === 0) { continue; }
        for (var j = 0, row = i * n; j < n; j++) { out[j] += x * k[row + j]; }
      }
      activate(out, layer.activation, layer.slope);
      h = out;
    });
    return h;
  }
  function draw(canvas, pixels) {  // white ink on black, as the report's figures show the images
    var ctx = canvas.getContext("2d"), img = ctx.createImageData(W, H);
    for (var p = 0; p < H * W; p++) {
      var v = Math.round(255 * Math.min(1, Math.max(0, pixels[p])));
      img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = v;
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // --- the codes' statistics ---
  var means = unpack(D.class_means), numbers = D.numbers;
  var dirs = unpack(D.pca.directions), stds = unpack(D.pca.std), K = stds.length;
  function classMean(number) {
    var i = numbers.indexOf(number);
    if (i < 0) { throw new Error("no class mean for " + number); }
    return Float64Array.from(means.subarray(i * L, (i + 1) * L));
  }

  // --- the sampler: a Gaussian mixture, lower Cholesky factors packed row by row; a seeded PRNG ---
  var mix = {weights: unpack(D.sampler.weights), means: unpack(D.sampler.means), chol: unpack(D.sampler.cholesky)};
  var tri = L * (L + 1) / 2;
  function mulberry32(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function sample(n, seed) {  // n codes (arrays of L) from the mixture, the same for the same seed
    var rand = mulberry32(seed), codes = [];
    function normal() { return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); }
    for (var s = 0; s < n; s++) {
      var u = rand(), k = 0, acc = mix.weights[0];
      while (u >= acc && k < mix.weights.length - 1) { acc += mix.weights[++k]; }
      var z = new Float64Array(L), x = new Float64Array(L);
      for (var i = 0; i < L; i++) { z[i] = normal(); }
      for (i = 0; i < L; i++) {
        var v = mix.means[k * L + i], row = k * tri + i * (i + 1) / 2;
        for (var j = 0; j <= i; j++) { v += mix.chol[row + j] * z[j]; }
        x[i] = v;
      }
      codes.push(x);
    }
    return codes;
  }

  // --- the page ---
  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function canvas(parent, cls) { return el("canvas", {width: W, height: H, "class": cls || "ex-img"}, parent); }
  function numberSelect(id, value, parent) {
    var s = el("select", {id: id}, parent);
    numbers.forEach(function (n) {
      var o = el("option", {value: n}, s);
      o.textContent = n < 10 ? "0" + n : String(n);
    });
    s.value = String(numbers.indexOf(value) >= 0 ? value : numbers[0]);
    return s;
  }
  function label(text, parent) { var e = el("span", {"class": "ex-label"}, parent); e.textContent = text; return e; }
  function pick(list, value) { return list.indexOf(value) >= 0 ? value : list[0]; }

  var first = pick(numbers, 37);
  var pickPanel = root.querySelector("#ex-pick"), interpPanel = root.querySelector("#ex-interp"),
      samplePanel = root.querySelector("#ex-sample");

  // pick a number, move along the principal directions
  var head = el("div", {"class": "ex-row"}, pickPanel);
  label("number ", head);
  var number = numberSelect("ex-number", first, head);
  var reset = el("button", {id: "ex-reset", type: "button"}, head);
  reset.textContent = "back to the class mean";
  var mainRow = el("div", {"class": "ex-row"}, pickPanel);
  var main = canvas(mainRow, "ex-big");
  main.id = "ex-main";
  var sliders = el("div", {"class": "ex-sliders"}, mainRow), inputs = [], values = [];
  for (var d = 0; d < K; d++) {
    var line = el("div", {"class": "ex-slider"}, sliders);
    label("direction " + (d + 1) + " (" + (100 * D.pca.explained[d]).toFixed(1) + "% of variance)", line);
    inputs.push(el("input", {type: "range", id: "ex-dir-" + (d + 1), min: -3, max: 3, step: 0.1, value: 0}, line));
    inputs[d].addEventListener("input", updateMain);
    values.push(el("span", {"class": "ex-value"}, line));
  }
  function updateMain() {
    var code = classMean(Number(number.value));
    inputs.forEach(function (input, d) {
      var a = Number(input.value) * stds[d];
      values[d].textContent = (input.value > 0 ? "+" : "") + Number(input.value).toFixed(1) + " sd";
      for (var i = 0; i < L; i++) { code[i] += a * dirs[d * L + i]; }
    });
    draw(main, decode(code));
  }
  number.addEventListener("change", updateMain);
  reset.addEventListener("click", function () { inputs.forEach(function (i) { i.value = 0; }); updateMain(); });

  // interpolate between two class means
  var interpHead = el("div", {"class": "ex-row"}, interpPanel);
  label("from ", interpHead);
  var from = numberSelect("ex-from", pick(numbers, 12), interpHead);
  label(" to ", interpHead);
  var to = numberSelect("ex-to", pick(numbers, 47), interpHead);
  var strip = el("div", {"class": "ex-row", id: "ex-strip"}, interpPanel), steps = [];
  for (var s = 0; s < 9; s++) { steps.push(canvas(strip)); }
  function updateStrip() {
    var a = classMean(Number(from.value)), b = classMean(Number(to.value));
    steps.forEach(function (c, s) {
      var t = s / (steps.length - 1), code = new Float64Array(L);
      for (var i = 0; i < L; i++) { code[i] = (1 - t) * a[i] + t * b[i]; }
      draw(c, decode(code));
    });
  }
  from.addEventListener("change", updateStrip);
  to.addEventListener("change", updateStrip);

  // draw from the sampler
  var sampleHead = el("div", {"class": "ex-row"}, samplePanel);
  label("seed ", sampleHead);
  var seed = el("input", {type: "number", id: "ex-seed", value: 0, min: 0, step: 1}, sampleHead);
  var again = el("button", {id: "ex-draw", type: "button"}, sampleHead);
  again.textContent = "draw 16 more";
  var grid = el("div", {"class": "ex-grid", id: "ex-samples"}, samplePanel), cells = [];
  for (s = 0; s < 16; s++) { cells.push(canvas(grid)); }
  function updateSamples() {
    sample(cells.length, Number(seed.value) || 0).forEach(function (code, i) { draw(cells[i], decode(code)); });
  }
  seed.addEventListener("change", updateSamples);
  again.addEventListener("click", function () { seed.value = (Number(seed.value) || 0) + 1; updateSamples(); });

  updateMain();
  updateStrip();
  updateSamples();
  window.multimnistExplorer = {decode: decode, sample: sample, classMean: classMean, numbers: numbers, ready: true};
})();
