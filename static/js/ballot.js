// The ballot page follows the vote live: the count of votes cast updates as they arrive, and the page
// reloads when the chair opens or closes the vote (so the buttons appear, or the outcome shows).
(function () {
  "use strict";
  var root = document.querySelector("[data-ballot]");
  if (!root || !window.io) { return; }
  var ballotId = root.getAttribute("data-ballot");
  var room = root.getAttribute("data-room");
  var socket = window.io({ transports: ["websocket"] });
  socket.on("ballot.updated", function (e) {
    if (!e || String(e.ballot_id) !== ballotId) { return; }
    var count = document.querySelector("[data-vote-count]");
    if (count && typeof e.votes === "number") { count.textContent = String(e.votes); }
    if (e.status && e.status !== root.getAttribute("data-status")) { window.location.reload(); }
  });
  socket.on("connect", function () {
    socket.emit("room.join", { room: room }, function (ack) {
      if (ack && ack.ok) { root.setAttribute("data-live", "1"); }
    });
  });
}());
