/* Mandate draft (templates/tavoli/mandate.html): the version is made from the draft as stored, so the
   form waits until the last keystrokes are saved, then sends. */
(function () {
  "use strict";
  var form = document.getElementById("mandate-submit");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    var draft = document.getElementById("mandate-draft");
    if (!draft || draft.dataset.coeditState !== "saving") { return; }
    event.preventDefault();
    form.querySelector("button").disabled = true;
    var timer = setInterval(function () {
      if (draft.dataset.coeditState === "saving") { return; }
      clearInterval(timer);
      form.submit();
    }, 100);
  });
}());
