// The patient picker (patients.inputs.PatientPicker): a combobox that asks the server
// (patients:search?q=) for at most ten current patients as the user types, and posts the
// chosen patient's id in a hidden input. Keyboard: Down/Up move through the list, Enter
// picks, Escape closes the list (a second Escape clears the text). The live region says
// how many patients match. Without this script the widget links to the registry search.
(function () {
  "use strict";

  var DELAY_MS = 200;
  var MIN_LENGTH = 2;

  function setup(root) {
    var hidden = root.querySelector("[data-picker-value]");
    var chosen = root.querySelector("[data-picker-chosen]");
    var chosenName = root.querySelector("[data-picker-name]");
    var change = root.querySelector("[data-picker-change]");
    var search = root.querySelector("[data-picker-search]");
    var box = root.querySelector("[data-picker-box]");
    var input = root.querySelector("[data-picker-input]");
    var list = root.querySelector("[data-picker-list]");
    var status = root.querySelector("[data-picker-status]");
    var url = root.getAttribute("data-search-url");
    var results = [];
    var active = -1;
    var timer = null;
    var sequence = 0;

    box.hidden = false;
    root.classList.add("is-ready");

    function announce(text) { status.textContent = text; }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      options.forEach(function (option, i) {
        var on = i === index;
        option.setAttribute("aria-selected", on ? "true" : "false");
        option.classList.toggle("active", on);
        if (on) {
          input.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
      if (index < 0) { input.removeAttribute("aria-activedescendant"); }
    }

    function show(data) {
      results = data.results;
      list.textContent = "";
      results.forEach(function (patient, i) {
        var option = document.createElement("li");
        option.id = input.id + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "list-group-item list-group-item-action";
        var name = document.createElement("span");
        name.className = "patient-picker-option-name";
        name.textContent = patient.name;
        var details = document.createElement("span");
        details.className = "patient-picker-option-details";
        details.textContent = patient.date_of_birth + (patient.phone ? " · " + patient.phone : "");
        option.appendChild(name);
        option.appendChild(document.createTextNode(" "));
        option.appendChild(details);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box until the pick is made
          pick(i);
        });
        list.appendChild(option);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      active = -1;
      if (!results.length) {
        announce("No current patient matches. Check the spelling, or register the patient first.");
      } else if (data.more) {
        announce("First " + results.length + " matching patients shown; type more to narrow. Use the arrow keys to choose.");
      } else {
        announce(results.length + (results.length === 1 ? " patient matches" : " patients match") + ". Use the arrow keys to choose.");
      }
    }

    function lookup() {
      var query = input.value.trim();
      var mine = ++sequence;
      if (query.length < MIN_LENGTH) {
        results = [];
        list.textContent = "";
        close();
        announce(query.length ? "Type at least " + MIN_LENGTH + " characters." : "");
        return;
      }
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) { if (mine === sequence) { show(data); } })
        .catch(function () {
          if (mine === sequence) { close(); announce("The search did not answer; use the registry link below."); }
        });
    }

    function pick(index) {
      var patient = results[index];
      if (!patient) { return; }
      hidden.value = patient.id;
      chosenName.textContent = patient.label;
      chosen.hidden = false;
      search.hidden = true;
      close();
      input.value = "";
      announce("");
      change.focus();
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && results.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && results.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (results.length) { highlight(active < results.length - 1 ? active + 1 : 0); }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (results.length) { highlight(active > 0 ? active - 1 : results.length - 1); }
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); pick(active); }
        else if (open || input.value.trim()) { event.preventDefault(); } // never submit half-typed
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
        else if (input.value) { event.preventDefault(); input.value = ""; announce(""); }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });

    change.addEventListener("click", function (event) {
      event.preventDefault();
      hidden.value = "";
      chosen.hidden = true;
      search.hidden = false;
      input.focus();
    });
  }

  function init() {
    document.querySelectorAll("[data-patient-picker]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
