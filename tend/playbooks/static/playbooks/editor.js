// The playbook editor: the trigger's settings and the ordered steps, kept in step with the
// JSON fields the form posts (trigger_config, steps; the condition is segments' rule builder).
// Each trigger and action describes its settings in the catalog (json_script
// "playbook-editor-data"); an entry without a description is edited as JSON. A branch's
// condition uses the same rule builder (segments/builder.js); its then/else lists are edited
// here one level deep, a branch inside a branch as JSON. The server's errors name a path
// (steps[2].config.template) and are shown at the step and setting they name.
// No inline script or style: the page's Content-Security-Policy allows neither.
(function () {
  "use strict";

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var uid = 0;
  function nextId(prefix) { uid += 1; return prefix + "-" + uid; }
  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return params[k] === undefined ? m : params[k]; });
  }
  function isObject(v) { return v && typeof v === "object" && !Array.isArray(v); }

  function Editor(form) {
    this.form = form;
    this.data = readJSON("playbook-editor-data") || { triggers: [], actions: [], picks: {}, texts: {} };
    this.t = this.data.texts || {};
    this.triggers = {};
    this.actions = {};
    var self = this;
    this.data.triggers.forEach(function (x) { self.triggers[x.name] = x; });
    this.data.actions.forEach(function (x) { self.actions[x.name] = x; });
    this.triggerSelect = document.getElementById("id_trigger");
    this.triggerBox = document.getElementById("trigger-settings");
    this.triggerInput = document.getElementById("id_trigger_config");
    this.stepsBox = document.getElementById("steps-editor");
    this.stepsInput = document.getElementById("id_steps");
    this.stepsStatus = document.getElementById("steps-json-status");
    this.triggerConfig = this.parse(this.triggerInput.value, {});
    if (!isObject(this.triggerConfig)) this.triggerConfig = {};
    this.steps = this.parse(this.stepsInput.value, []);
    if (!Array.isArray(this.steps)) this.steps = [];
    this.renderTrigger();
    this.renderSteps();
    this.triggerSelect.addEventListener("change", function () {
      self.triggerConfig = {};
      self.renderTrigger();
      self.write();
    });
    // Builders of branch conditions write their hidden inputs in their own handlers, which run
    // before these bubbling ones: read them back after every edit.
    ["input", "change", "click"].forEach(function (kind) {
      self.stepsBox.addEventListener(kind, function () { self.collectConditions(); self.write(); });
    });
    var timer = null;
    this.stepsInput.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.applyJSON(); }, 500);
    });
    this.triggerInput.addEventListener("input", function () {
      var value = self.parse(self.triggerInput.value, null);
      if (isObject(value)) { self.triggerConfig = value; self.renderTrigger(); }
    });
    form.addEventListener("submit", function () { self.collectConditions(); self.write(); });
    (readJSON("playbook-problems") || []).forEach(function (p) { self.mark(p.path, p.message); });
  }

  Editor.prototype.parse = function (text, fallback) {
    try { return JSON.parse(text); } catch (e) { return fallback; }
  };

  Editor.prototype.write = function () {
    this.triggerInput.value = JSON.stringify(this.triggerConfig);
    this.stepsInput.value = JSON.stringify(this.steps, null, 1);
  };

  Editor.prototype.applyJSON = function () {
    var value;
    try { value = JSON.parse(this.stepsInput.value); } catch (e) {
      if (this.stepsStatus) this.stepsStatus.textContent = fmt(this.t.bad_json, { error: e.message });
      return;
    }
    if (!Array.isArray(value)) return;
    this.steps = value;
    if (this.stepsStatus) this.stepsStatus.textContent = "";
    this.renderSteps();
  };

  // --- settings ------------------------------------------------------------------------

  Editor.prototype.settingInput = function (setting, config, id) {
    var self = this;
    var value = config[setting.name];
    if (value === undefined && setting.default !== null && setting.default !== undefined) {
      value = setting.default;
      config[setting.name] = value;
    }
    var common = { id: id, "data-setting": setting.name, "aria-describedby": id + "-help" };
    var kind = setting.kind;
    var choices = setting.choices && setting.choices.length ? setting.choices : (this.data.picks[kind] || null);
    if (kind === "bool") {
      return el("input", Object.assign({ type: "checkbox", className: "form-check-input", checked: !!value,
        onchange: function (e) { config[setting.name] = e.target.checked; } }, common));
    }
    if (kind === "multichoice" || kind === "tags") {
      var list = Array.isArray(value) ? value : [];
      var opts = choices || [];
      return el("select", Object.assign({ className: "form-select form-select-sm", multiple: true, size: Math.min(5, Math.max(2, opts.length)),
        onchange: function (e) {
          config[setting.name] = Array.prototype.slice.call(e.target.selectedOptions).map(function (o) { return opts[Number(o.dataset.index)].value; });
        } }, common), opts.map(function (c, i) {
        return el("option", { value: String(c.value), "data-index": String(i), selected: list.indexOf(c.value) >= 0, text: c.label });
      }));
    }
    if (choices) {
      var options = [el("option", { value: "", text: choices.length ? this.t.choose : this.t.none_to_pick })];
      var found = false;
      choices.forEach(function (c, i) {
        var selected = value !== undefined && value !== null && String(c.value) === String(value);
        found = found || selected;
        options.push(el("option", { value: String(c.value), "data-index": String(i), selected: selected, text: c.label }));
      });
      if (!found && value !== undefined && value !== null && value !== "") {
        // A stored value the lists no longer hold (a deleted template): keep it, visibly.
        options.push(el("option", { value: String(value), selected: true, text: String(value) + " ?" }));
      }
      return el("select", Object.assign({ className: "form-select form-select-sm",
        onchange: function (e) {
          var o = e.target.selectedOptions[0];
          if (!o || o.value === "") delete config[setting.name];
          else if (o.dataset.index !== undefined) config[setting.name] = choices[Number(o.dataset.index)].value;
          else config[setting.name] = value;
        } }, common), options);
    }
    if (kind === "int") {
      return el("input", Object.assign({ type: "number", step: "1", className: "form-control form-control-sm",
        min: setting.min, max: setting.max, value: value === undefined || value === null ? "" : String(value),
        oninput: function (e) {
          var v = e.target.value.trim();
          if (v === "") delete config[setting.name];
          else config[setting.name] = /^-?\d+$/.test(v) ? Number(v) : v;
        } }, common));
    }
    if (kind === "date") {
      return el("input", Object.assign({ type: "date", className: "form-control form-control-sm", value: value || "",
        oninput: function (e) { config[setting.name] = e.target.value; } }, common));
    }
    if (kind === "json") {
      return el("textarea", Object.assign({ className: "form-control form-control-sm font-monospace", rows: 3, spellcheck: "false",
        oninput: function (e) { try { config[setting.name] = JSON.parse(e.target.value); } catch (err) { /* until it parses */ } } }, common),
        [JSON.stringify(value === undefined ? null : value)]);
    }
    var multiline = kind === "textarea";
    return el(multiline ? "textarea" : "input", Object.assign({ type: multiline ? null : "text", rows: multiline ? 3 : null, maxlength: setting.max,
      className: "form-control form-control-sm", value: multiline ? null : (value === undefined || value === null ? "" : String(value)),
      oninput: function (e) { config[setting.name] = e.target.value; } }, common), multiline ? [value ? String(value) : ""] : []);
  };

  Editor.prototype.settingsBlock = function (settings, config) {
    var self = this;
    if (!settings || !settings.length) {
      // No description of the settings: edit them as JSON.
      var id = nextId("cfg");
      var status = el("div", { className: "form-text", id: id + "-help" });
      var area = el("textarea", { className: "form-control form-control-sm font-monospace", id: id, rows: 3, spellcheck: "false",
        "data-setting": "", "aria-describedby": id + "-help",
        oninput: function (e) {
          try {
            var v = JSON.parse(e.target.value || "{}");
            if (!isObject(v)) throw new Error("{…}");
            Object.keys(config).forEach(function (k) { delete config[k]; });
            Object.assign(config, v); status.textContent = "";
          } catch (err) { status.textContent = fmt(self.t.bad_json, { error: err.message }); }
        } }, [JSON.stringify(config)]);
      return el("div", { className: "step-setting" }, [el("label", { className: "form-label small mb-0", for: id, text: this.t.settings_json }), area, status]);
    }
    return el("div", { className: "row g-2" }, settings.filter(function (s) { return s.kind !== "condition" && s.kind !== "steps"; }).map(function (s) {
      var id = nextId("set");
      var input = self.settingInput(s, config, id);
      var isCheck = s.kind === "bool";
      var label = el("label", { className: isCheck ? "form-check-label small" : "form-label small mb-0", for: id, text: s.label });
      var wide = s.kind === "textarea" || s.kind === "json" || s.kind === "multichoice" || s.kind === "tags";
      return el("div", { className: (wide ? "col-12" : "col-12 col-sm-6") + " step-setting", "data-setting-box": s.name },
        isCheck ? [el("div", { className: "form-check" }, [input, label])] : [label, input,
          el("div", { className: "form-text", id: id + "-help", text: s.help || "" }),
          el("div", { className: "invalid-feedback" })]);
    }));
  };

  // --- trigger -------------------------------------------------------------------------

  Editor.prototype.renderTrigger = function () {
    var trigger = this.triggers[this.triggerSelect.value];
    this.triggerBox.textContent = "";
    if (!trigger) return;
    if (!trigger.settings.length && !Object.keys(this.triggerConfig).length && trigger.manual) return;
    this.triggerBox.appendChild(this.settingsBlock(trigger.settings, this.triggerConfig));
    this.triggerBox.appendChild(el("div", { className: "step-error invalid-feedback" }));
  };

  // --- steps ---------------------------------------------------------------------------

  Editor.prototype.allIds = function (steps, out) {
    var self = this;
    (steps || []).forEach(function (s) {
      if (!isObject(s)) return;
      out.push(String(s.id || ""));
      self.allIds(s.then, out); self.allIds(s["else"], out);
    });
    return out;
  };

  Editor.prototype.newStep = function (type) {
    var n = 0;
    this.allIds(this.steps, []).forEach(function (id) { var m = /^s(\d+)$/.exec(id); if (m) n = Math.max(n, Number(m[1])); });
    var step = { id: "s" + (n + 1), type: type, config: {} };
    if (type === "branch") { step.config = { condition: { all: [] } }; step.then = []; step["else"] = []; }
    return step;
  };

  Editor.prototype.typeSelect = function (step, list, id) {
    var self = this;
    return el("select", { className: "form-select form-select-sm step-type", id: id, "data-setting": "type", "aria-label": this.t.step_type,
      onchange: function (e) {
        var fresh = self.newStep(e.target.value);
        step.type = fresh.type; step.config = fresh.config;
        if (fresh.type === "branch") { step.then = []; step["else"] = []; } else { delete step.then; delete step["else"]; }
        self.renderSteps(); self.write();
      } }, this.data.actions.filter(function (a) { return !(list.nested && a.name === "branch"); }).map(function (a) {
      return el("option", { value: a.name, selected: a.name === step.type, text: a.label });
    }).concat(this.actions[step.type] ? [] : [el("option", { value: step.type, selected: true, text: String(step.type) })]));
  };

  Editor.prototype.stepCard = function (step, index, list, path) {
    var self = this;
    var t = this.t;
    var id = nextId("step");
    var head = el("div", { className: "d-flex flex-wrap align-items-center gap-2 mb-2" }, [
      el("span", { className: "step-number", text: String(index + 1) }),
      this.typeSelect(step, list, id + "-type"),
      el("div", { className: "ms-auto btn-group btn-group-sm" }, [
        el("button", { type: "button", className: "btn btn-outline-secondary", "aria-label": t.up, title: t.up, disabled: index === 0,
          onclick: function () { list.splice(index - 1, 0, list.splice(index, 1)[0]); self.renderSteps(); self.write(); } }, ["↑"]),
        el("button", { type: "button", className: "btn btn-outline-secondary", "aria-label": t.down, title: t.down, disabled: index === list.length - 1,
          onclick: function () { list.splice(index + 1, 0, list.splice(index, 1)[0]); self.renderSteps(); self.write(); } }, ["↓"]),
        el("button", { type: "button", className: "btn btn-outline-danger", "aria-label": t.remove, title: t.remove,
          onclick: function () { list.splice(index, 1); self.renderSteps(); self.write(); } }, ["✕"])
      ])
    ]);
    if (!isObject(step.config)) step.config = {};
    var body = [];
    var action = this.actions[step.type];
    if (step.type === "branch") {
      body.push(this.branchBody(step, path, !!list.nested));
    } else {
      body.push(this.settingsBlock(action ? action.settings : [], step.config));
    }
    return el("li", { className: "step-card" + (step.type === "branch" ? " step-branch" : ""), "data-path": path, "data-step": step.id }, [
      head
    ].concat(body).concat([el("div", { className: "step-error invalid-feedback" })]));
  };

  Editor.prototype.branchBody = function (step, path, nested) {
    var self = this;
    var t = this.t;
    var cfg = step.config;
    if (!isObject(cfg.condition)) cfg.condition = { all: [] };
    if (!Array.isArray(step.then)) step.then = [];
    if (!Array.isArray(step["else"])) step["else"] = [];
    var inputId = nextId("branch-cond");
    var input = el("input", { type: "hidden", id: inputId, value: JSON.stringify(cfg.condition) });
    var builderRoot = el("div", { className: "rule-builder rule-builder-branch", "data-catalog": "condition-catalog", "data-texts": "builder-texts",
      "data-input": inputId, "data-path": path + ".config.condition" });
    var parts = [el("div", { className: "small fw-semibold mb-1", text: t["if"] }), input, builderRoot];
    ["then", "else"].forEach(function (arm) {
      var list = step[arm];
      var label = arm === "then" ? t.then : t["else"];
      var box;
      if (nested) {
        box = el("p", { className: "small text-body-secondary", text: t.nested_branch });
      } else {
        list.nested = true;
        box = self.stepList(list, path + "." + arm, arm);
      }
      parts.push(el("div", { className: "branch-arm branch-" + arm }, [el("div", { className: "small fw-semibold mt-2 mb-1", text: label }), box]));
    });
    this.pendingBuilders.push({ root: builderRoot, input: input, step: step });
    return el("div", { className: "branch-body" }, parts);
  };

  Editor.prototype.stepList = function (list, path, arm) {
    var self = this;
    var t = this.t;
    var ol = el("ol", { className: "step-list list-unstyled mb-2" });
    list.forEach(function (step, i) {
      if (!isObject(step)) return;
      ol.appendChild(self.stepCard(step, i, list, path + "[" + i + "]"));
    });
    var empty = list.length ? null : el("p", { className: "small text-body-secondary mb-2", text: arm ? t.no_branch_steps : t.no_steps });
    var firstAction = (this.data.actions.filter(function (a) { return a.name !== "branch"; })[0] || { name: "wait" }).name;
    var add = el("button", { type: "button", className: "btn btn-sm " + (arm ? "btn-outline-secondary" : "btn-outline-primary") + " step-add",
      text: arm === "then" ? t.add_then : arm === "else" ? t.add_else : t.add_step,
      onclick: function () { list.push(self.newStep(firstAction)); self.renderSteps(); self.write(); self.focusLast(path); } });
    return el("div", {}, [ol, empty, add]);
  };

  Editor.prototype.focusLast = function (path) {
    var cards = this.stepsBox.querySelectorAll("[data-path^='" + path + "[']");
    if (cards.length) { var sel = cards[cards.length - 1].querySelector(".step-type"); if (sel) sel.focus(); }
  };

  Editor.prototype.renderSteps = function () {
    this.pendingBuilders = [];
    this.stepsBox.textContent = "";
    this.stepsBox.appendChild(this.stepList(this.steps, "steps", null));
    var Builder = window.TendRuleBuilder;
    this.pendingBuilders.forEach(function (b) {
      if (Builder) b.root.builder = new Builder(b.root);
      else b.root.appendChild(el("p", { className: "small text-body-secondary", text: JSON.stringify(b.step.config.condition) }));
    });
  };

  Editor.prototype.collectConditions = function () {
    var self = this;
    (this.pendingBuilders || []).forEach(function (b) {
      var v = self.parse(b.input.value, null);
      if (isObject(v)) b.step.config.condition = v;
    });
  };

  // --- errors --------------------------------------------------------------------------

  Editor.prototype.mark = function (path, message) {
    var best = null;
    var bestLen = -1;
    this.form.querySelectorAll("[data-path]").forEach(function (node) {
      var p = node.dataset.path;
      var hit = path === p || path.indexOf(p + ".") === 0 || path.indexOf(p + "[") === 0;
      if (hit && p.length > bestLen) { best = node; bestLen = p.length; }
    });
    if (!best) return;
    var rest = path.slice(bestLen).replace(/^\./, "").replace(/^config\./, "");
    var name = rest.split(/[.[]/)[0];
    if (best.classList.contains("rule-builder") && best.builder) {
      best.builder.markError(rest.replace(/^condition\.?/, ""), message);
      return;
    }
    if (best.tagName === "SELECT" || best.tagName === "INPUT") {
      best.classList.add("is-invalid");
      return;
    }
    best.classList.add("has-error");
    var target = name ? best.querySelector("[data-setting='" + name + "']") : null;
    if (target) {
      target.classList.add("is-invalid"); target.setAttribute("aria-invalid", "true");
      var box = target.parentNode.querySelector(".invalid-feedback");
      if (box) { box.textContent = message; box.classList.add("d-block"); return; }
    }
    var err = best.querySelector(":scope > .step-error");
    if (err) { err.textContent = (err.textContent ? err.textContent + " " : "") + message; err.classList.add("d-block"); }
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("playbook-form");
    if (!form || !document.getElementById("steps-editor")) return;
    // After the page's own builder (its listener was added first, by segments/builder.js).
    setTimeout(function () { form.editor = new Editor(form); }, 0);
  });
})();
