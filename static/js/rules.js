/* Beatbook's entry rules on the phone: what the server checks, checked before an entry is queued with no
   signal, so that what waits on the phone is what the server will accept. Field rules come from the form
   itself (the server renders its validators as required, maxlength, min and max); the rules between
   fields mirror pcso/entries/forms.py, pcso/entries/services.py (_common_errors) and each kind's check()
   in pcso/entries/kinds/. tests/browser/test_offline_rules.py runs both on the same inputs and compares.
   What only the server can know (a postcode outside the phone's list, a record since merged) still comes
   back from it: the entry then "needs attention" with the server's reason. Messages are the server's. */
(function () {
  "use strict";

  var FUTURE_SLACK_MS = 10 * 60 * 1000;
  var VRM = /^[A-Z0-9]{2,8}$/;

  function value(form, name) {
    var fields = form.querySelectorAll('[name="' + name + '"]');
    if (!fields.length) { return null; }
    if (fields[0].type === "radio" || fields[0].type === "checkbox") {
      var on = [].filter.call(fields, function (f) { return f.checked; });
      return on.length ? on[0].value : "";
    }
    return fields[0].value.trim();
  }

  function londonParts(date) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  function londonToday() {
    var p = londonParts(new Date());
    return p.year + "-" + p.month + "-" + p.day;
  }

  /* "2026-12-02T14:30" in Europe/London as epoch ms (the offset found by asking what London shows). */
  function fromLondon(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
    if (!m) { return null; }
    var guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    for (var i = 0; i < 2; i += 1) {
      var p = londonParts(new Date(guess));
      var shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
      guess += Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) - shown;
    }
    return guess;
  }

  function ageOn(born, on) {  // whole years, as pcso.models age_on
    var b = born.split("-").map(Number), d = on.split("-").map(Number);
    var age = d[0] - b[0];
    if (d[1] < b[1] || (d[1] === b[1] && d[2] < b[2])) { age -= 1; }
    return age;
  }

  function labelOf(field) {
    var group = field.closest("fieldset") && (field.type === "radio" || field.type === "checkbox")
      ? field.closest("fieldset").querySelector("legend") : document.querySelector('label[for="' + field.id + '"]');
    return group ? group.textContent.trim().replace(/\s+/g, " ") : field.name;
  }

  /* The form's own constraints, in page order. */
  function fieldErrors(form, errors) {
    form.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (!field.name || field.type === "hidden" || field.disabled || errors[field.name]) { return; }
      var v = field.validity;
      // A select's "Choose ..." option inside an optgroup is not a placeholder to the browser: check it here.
      var missingChoice = field.tagName === "SELECT" && field.required && !field.value;
      if (v.valid && !missingChoice) { return; }
      var label = labelOf(field);
      if (v.valueMissing || missingChoice) {
        errors[field.name] = (field.type === "radio" || field.tagName === "SELECT" ? "Choose " : "Enter ") +
          label.charAt(0).toLowerCase() + label.slice(1).replace(/\?$/, "");
      } else if (v.tooLong) { errors[field.name] = label + ": at most " + field.maxLength + " characters"; }
      else if (v.rangeUnderflow || v.rangeOverflow) {
        errors[field.name] = label + ": between " + field.min + " and " + field.max;
      } else { errors[field.name] = label + ": not a valid value"; }
    });
  }

  function peopleAndVehicles(form, errors) {
    var today = londonToday();
    form.querySelectorAll('[name$="-name"][name^="people-"]').forEach(function (nameField) {
      var prefix = nameField.name.replace(/name$/, "");
      var name = nameField.value.trim(), role = value(form, prefix + "role"), born = value(form, prefix + "born_on");
      if (name && !role) { errors[prefix + "role"] = "Choose the person's role"; }
      if (role && !name) { errors[prefix + "role"] = "Enter the person's name, or clear the role"; }
      if (born && born > today) { errors[prefix + "born_on"] = "The date of birth is in the future"; }
    });
    form.querySelectorAll('[name$="-vrm"][name^="vehicles-"]').forEach(function (vrmField) {
      var prefix = vrmField.name.replace(/vrm$/, "");
      var vrm = vrmField.value.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
      if (vrmField.value.trim() && !VRM.test(vrm)) {
        errors[vrmField.name] = "A registration is 2 to 8 letters and numbers, e.g. AB12 CDE";
      } else if (!vrmField.value.trim() && (value(form, prefix + "make") || value(form, prefix + "model") ||
                                            value(form, prefix + "colour"))) {
        errors[vrmField.name] = "Enter the registration";
      }
    });
  }

  /* pcso/entries/placing.py: an entry needs a place or a beat (a school visit falls back to its school). */
  function place(form, errors) {
    var point = value(form, "lat") || value(form, "lon") || value(form, "postcode");
    var fallback = form.dataset.kind === "school_visit" && value(form, "school_id");
    if (!point && !fallback && !value(form, "beat_id")) {
      errors.beat_id = "Give a location, or choose the beat by hand";
    }
  }

  function common(form, errors) {
    var when = value(form, "occurred_at");
    var at = when ? fromLondon(when) : null;
    if (when && at === null) { errors.occurred_at = "Enter the date and time"; }
    else if (at !== null && at > Date.now() + FUTURE_SLACK_MS) { errors.occurred_at = "The time is in the future"; }
    else if (at !== null && new Date(at).getUTCFullYear() < 2000) { errors.occurred_at = "Check the year"; }
    return when;
  }

  var KINDS = {
    asb_incident: function (form, errors) {
      var victim = [].some.call(form.querySelectorAll('[name^="people-"][name$="-role"]'), function (role) {
        var name = form.querySelector('[name="' + role.name.replace(/role$/, "name") + '"]');
        return role.value === "victim" && name && name.value.trim();
      });
      if (victim && !value(form, "victim_risk")) {
        errors.victim_risk = "A victim is named: assess their risk (low, medium or high)";
      }
    },
    intelligence_report: function (form, errors) {
      var code = value(form, "handling_code"), conditions = value(form, "handling_conditions");
      if (code === "C" && !conditions) { errors.handling_conditions = "Handling code C: record the conditions for sharing"; }
      if (code === "P" && conditions) {
        errors.handling_conditions = "Conditions go with handling code C: choose C, or clear the conditions";
      }
      if (value(form, "marking") === "OFFICIAL" && code !== "P") {
        errors.marking = "Intelligence with conditions on sharing stays OFFICIAL-SENSITIVE";
      }
    },
    welfare_check: function (form, errors, when) {
      var born = value(form, "child_born_on"), visit = when ? when.slice(0, 10) : null;
      if (born && visit && born > visit) { errors.child_born_on = "The date of birth is after the visit"; }
      else if (born && visit && ageOn(born, visit) >= 18) {
        errors.child_born_on = "The child must be under 18 on the visit date: this person was " + ageOn(born, visit);
      }
      if (value(form, "is_seen_alone") === "no" && !value(form, "others_present")) {
        errors.is_seen_alone = "Say who else was present";
      }
      if (value(form, "is_mash_referral") && !value(form, "mash_reference")) {
        errors.mash_reference = "Enter the MASH referral reference";
      }
      var next = value(form, "next_visit_on");
      if (next && visit && next < visit) { errors.next_visit_on = "The next visit must be after this one"; }
    }
  };

  /* {field name: message} for everything wrong with the form; {} when it may be queued. */
  function check(form) {
    var errors = {};
    fieldErrors(form, errors);
    var when = common(form, errors);
    peopleAndVehicles(form, errors);
    place(form, errors);
    var kind = KINDS[form.dataset.kind];
    if (kind) { kind(form, errors, when); }
    return errors;
  }

  /* Put errors on the form as the server does: a summary at the top, each message beside its field. */
  function show(form, errors) {
    form.querySelectorAll(".error-message[data-phone]").forEach(function (e) { e.remove(); });
    form.querySelectorAll(".form-group--error").forEach(function (g) { g.classList.remove("form-group--error"); });
    var old = document.querySelector("[data-testid=error-summary]");
    if (old) { old.remove(); }
    var summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.setAttribute("data-testid", "error-summary");
    var h2 = document.createElement("h2");
    h2.textContent = "There is a problem";
    var list = document.createElement("ul");
    summary.appendChild(h2);
    summary.appendChild(list);
    Object.keys(errors).forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]') || document.getElementById(name);
      var id = field ? (field.closest("fieldset[id]") && field.type !== "text" ? field.closest("fieldset[id]").id : field.id) : "main";
      [].concat(errors[name]).forEach(function (message) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = "#" + id;
        a.textContent = message;
        li.appendChild(a);
        list.appendChild(li);
        var group = field && field.closest(".form-group");
        if (group) {
          group.classList.add("form-group--error");
          var span = document.createElement("span");
          span.className = "error-message";
          span.setAttribute("data-phone", "");
          span.textContent = message;
          var anchor = group.querySelector("legend") || group.querySelector("label");
          if (anchor) { anchor.parentNode.insertBefore(span, anchor.nextSibling); } else { group.prepend(span); }
        }
      });
    });
    form.parentNode.insertBefore(summary, form);
    summary.focus();
  }

  window.BeatbookRules = { check: check, show: show, fromLondon: fromLondon };
})();
