(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var isFile = location.protocol === "file:";
  if (isFile) { document.documentElement.classList.add("is-file"); }

  // One controller per answer: word spans seek the audio; the spoken word is highlighted.
  var players = {};
  Array.prototype.forEach.call(document.querySelectorAll(".answer"), function (box) {
    var audio = box.querySelector("audio.answer-audio");
    var turn = box.getAttribute("data-turn");
    if (!audio) { return; }
    var words = Array.prototype.slice.call(box.querySelectorAll(".w[data-s]"));
    var starts = words.map(function (w) { return parseFloat(w.getAttribute("data-s")); });
    var ends = words.map(function (w) { return parseFloat(w.getAttribute("data-e")); });
    var current = -1;
    function wordAt(t) {
      var lo = 0, hi = starts.length - 1, found = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (starts[mid] <= t + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      if (found >= 0 && t > ends[found] + 1.0) { return -1; }  // a long pause: nothing spoken
      return found;
    }
    function highlight() {
      var i = wordAt(audio.currentTime);
      if (i === current) { return; }
      if (current >= 0) { words[current].classList.remove("speaking"); }
      current = i;
      if (i >= 0) { words[i].classList.add("speaking"); }
    }
    var raf = 0;
    function loop() { highlight(); if (!audio.paused) { raf = requestAnimationFrame(loop); } }
    audio.addEventListener("timeupdate", highlight);
    audio.addEventListener("seeked", highlight);
    audio.addEventListener("play", function () { cancelAnimationFrame(raf); raf = requestAnimationFrame(loop); });
    function seek(t) { audio.currentTime = t; highlight(); }
    words.forEach(function (w, i) {
      w.addEventListener("click", function () { seek(starts[i]); });
    });
    players[turn] = { audio: audio, seek: seek };
  });

  // Evidence quotes and note times jump to their place in the answer.
  Array.prototype.forEach.call(document.querySelectorAll("q.quote[data-s], button.seek[data-s]"), function (el) {
    el.addEventListener("click", function () {
      var p = players[el.getAttribute("data-turn")];
      if (!p) { return; }
      p.seek(parseFloat(el.getAttribute("data-s")));
      p.audio.scrollIntoView({ block: "center" });
    });
  });

  // Reviewer notes: posted to the local review server (mockinterview review --serve).
  Array.prototype.forEach.call(document.querySelectorAll("form.annotate"), function (form) {
    var status = form.querySelector(".status");
    var turn = parseInt(form.getAttribute("data-turn"), 10);
    var useTime = form.querySelector(".use-time");
    if (useTime) {
      useTime.addEventListener("click", function () {
        var p = players[String(turn)];
        if (p) { form.elements.namedItem("at_s").value = p.audio.currentTime.toFixed(1); }
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      status.classList.remove("error");
      if (isFile) {
        status.classList.add("error");
        status.textContent = "Opened from a file: run 'mockinterview review " + data.folder + " --serve' to save notes.";
        return;
      }
      var levels = {};
      Array.prototype.forEach.call(form.querySelectorAll("select[name=level]"), function (sel) {
        if (sel.value) { levels[sel.getAttribute("data-criterion")] = parseInt(sel.value, 10); }
      });
      var at = form.elements.namedItem("at_s").value;
      var body = {
        session: data.folder, turn: turn, at_s: at === "" ? null : parseFloat(at),
        comment: form.elements.namedItem("comment").value,
        reviewer: form.elements.namedItem("reviewer").value || "reviewer", levels: levels
      };
      status.textContent = "Saving...";
      fetch("/api/annotations", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        credentials: "same-origin"
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; });
      }).then(function (res) {
        if (res.ok) { status.textContent = "Saved."; location.reload(); }
        else { status.classList.add("error"); status.textContent = "Not saved: " + (res.j.error || "unknown error"); }
      }).catch(function (e) {
        status.classList.add("error"); status.textContent = "Not saved: " + e;
      });
    });
  });
})();
