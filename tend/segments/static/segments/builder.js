// The segment rule builder: nested AND/OR/NONE groups of conditions, kept in step with the
// condition JSON in a hidden input (what the form saves) and in the "Advanced: edit JSON" text.
// The field catalog and every text come from the server (json_script elements named by the
// builder's data attributes); each change asks the server for a live count (htmx, debounced
// by the preview's hx-trigger) and the server's error is shown at the condition it names.
// No inline script or style: the page's Content-Security-Policy allows neither.
(function () {
  "use strict";

  var MAX_DEPTH = 8;
  var NO_VALUE = ["is_empty", "is_not_empty", "is_true", "is_false"];
  var TRAIT = "trait:";
  var TRAIT_TYPES = ["number", "text", "bool", "date"];
  // A leaf: {kind: "leaf", field, type (traits only), op, value}; a group: {kind: "group",
  // mode: "all" | "any" | "none", children}. "none" is stored as {"not": {"any": [...]}}.

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
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

  function Builder(root) {
    this.root = root;
    this.catalog = readJSON(root.dataset.catalog) || [];
    this.texts = readJSON(root.dataset.texts) || { ops: {}, modes: {}, types: {} };
    this.input = document.getElementById(root.dataset.input);
    this.json = document.getElementById(root.dataset.json);
    this.jsonStatus = this.json ? document.getElementById(this.json.getAttribute("aria-describedby")) : null;
    this.preview = document.getElementById(root.dataset.preview);
    this.fields = {};
    var self = this;
    this.catalog.forEach(function (f) { self.fields[f.name] = f; });
    var raw;
    try { raw = JSON.parse(this.input.value || "{\"all\": []}"); } catch (e) { raw = { all: [] }; }
    this.tree = this.asGroup(this.fromJSON(raw));
    this.render();
    this.write(true);
    var problem = readJSON(root.dataset.problem);
    if (problem && problem.path) this.markError(problem.path, problem.message);
    if (this.json) {
      var timer = null;
      this.json.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { self.applyJSON(); }, 500);
      });
    }
    if (this.preview) {
      this.preview.addEventListener("htmx:afterSwap", function () { self.showPreviewError(); });
    }
  }

  // --- model <-> JSON ---------------------------------------------------------------------

  Builder.prototype.fromJSON = function (raw) {
    var self = this;
    if (raw && typeof raw === "object" && !Array.isArray(raw)) {
      if (Array.isArray(raw.all)) return { kind: "group", mode: "all", children: raw.all.map(function (c) { return self.fromJSON(c); }) };
      if (Array.isArray(raw.any)) return { kind: "group", mode: "any", children: raw.any.map(function (c) { return self.fromJSON(c); }) };
      if ("not" in raw) {
        var inner = raw.not;
        if (inner && Array.isArray(inner.any)) {
          return { kind: "group", mode: "none", children: inner.any.map(function (c) { return self.fromJSON(c); }) };
        }
        return { kind: "group", mode: "none", children: [self.fromJSON(inner)] };
      }
      if (typeof raw.field === "string") {
        var leaf = { kind: "leaf", field: raw.field, op: raw.op, value: raw.value };
        if (raw.type) leaf.type = raw.type;
        return leaf;
      }
    }
    return { kind: "group", mode: "all", children: [] };
  };

  Builder.prototype.asGroup = function (node) {
    return node.kind === "group" ? node : { kind: "group", mode: "all", children: [node] };
  };

  Builder.prototype.toJSON = function (node) {
    var self = this;
    if (node.kind === "group") {
      var children = node.children.map(function (c) { return self.toJSON(c); });
      if (node.mode === "any") return { any: children };
      if (node.mode === "none") return { not: { any: children } };
      return { all: children };
    }
    var out = { field: node.field };
    if (node.field.indexOf(TRAIT) === 0) out.type = node.type || "text";
    out.op = node.op;
    if (NO_VALUE.indexOf(node.op) < 0) out.value = node.value === undefined ? null : node.value;
    return out;
  };

  // --- fields, operators and values ---------------------------------------------------------
  // Each operator of the catalog says what value it takes: none, number, number_range, text,
  // list, day, day_range or days.

  Builder.prototype.isTrait = function (leaf) { return leaf.field.indexOf(TRAIT) === 0; };

  Builder.prototype.fieldType = function (leaf) {
    if (this.isTrait(leaf)) return leaf.type || "text";
    var f = this.fields[leaf.field];
    return f ? f.type : "text";
  };

  Builder.prototype.operators = function (leaf) {
    if (this.isTrait(leaf)) {
      var trait = this.fields[TRAIT];
      return (trait && trait.types && trait.types[leaf.type || "text"]) || [];
    }
    var f = this.fields[leaf.field];
    return f && Array.isArray(f.operators) ? f.operators : [];
  };

  Builder.prototype.valueKind = function (leaf) {
    var found = this.operators(leaf).filter(function (o) { return o.name === leaf.op; })[0];
    if (found) return found.value;
    return NO_VALUE.indexOf(leaf.op) >= 0 ? "none" : "text";
  };

  Builder.prototype.choices = function (leaf) {
    var f = this.isTrait(leaf) ? null : this.fields[leaf.field];
    if (!f || !Array.isArray(f.choices) || !f.choices.length) return null;
    return f.choices.map(function (c) {
      return Array.isArray(c) ? { value: c[0], label: String(c[1]) } : { value: c.value, label: String(c.label) };
    });
  };

  function defaultValue(kind) {
    switch (kind) {
      case "none": return undefined;
      case "days": return 30;
      case "number": return null;
      case "number_range": return [null, null];
      case "day_range": return ["", ""];
      case "list": return [];
      default: return "";
    }
  }

  Builder.prototype.resetOp = function (leaf) {
    var ops = this.operators(leaf);
    leaf.op = ops.length ? ops[0].name : "";
    leaf.value = defaultValue(this.valueKind(leaf));
  };

  Builder.prototype.newLeaf = function () {
    var first = this.catalog.filter(function (f) { return f.type !== "trait"; })[0];
    var leaf = { kind: "leaf", field: first ? first.name : "name", op: "" };
    this.resetOp(leaf);
    return leaf;
  };

  // --- rendering ----------------------------------------------------------------------------

  Builder.prototype.render = function () {
    var focus = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement.id : null;
    this.root.querySelectorAll(".rule-group, .rule-leaf").forEach(function (n) { n.remove(); });
    this.root.appendChild(this.renderGroup(this.tree, "", 1, null));
    if (focus) {
      var again = document.getElementById(focus);
      if (again) again.focus();
    }
  };

  function childPath(group, prefix, index) {
    var step = group.mode === "any" ? "any[" + index + "]" : group.mode === "none" ? "not.any[" + index + "]" : "all[" + index + "]";
    return prefix ? prefix + "." + step : step;
  }

  Builder.prototype.renderGroup = function (group, path, depth, parent) {
    var self = this;
    var t = this.texts;
    var id = nextId("group");
    var mode = el("select", {
      className: "form-select form-select-sm rule-mode", id: id + "-mode", "aria-label": t.group,
      onchange: function (e) { group.mode = e.target.value; self.changed(true); }
    }, ["all", "any", "none"].map(function (m) {
      return el("option", { value: m, selected: group.mode === m, text: t.modes[m] });
    }));
    var actions = el("div", { className: "rule-actions d-flex flex-wrap gap-1" }, [
      el("button", {
        type: "button", className: "btn btn-sm btn-outline-primary rule-add-condition", text: "+ " + t.add_condition,
        onclick: function () { group.children.push(self.newLeaf()); self.changed(true, true); }
      }),
      depth < MAX_DEPTH ? el("button", {
        type: "button", className: "btn btn-sm btn-outline-secondary rule-add-group", text: "+ " + t.add_group,
        onclick: function () {
          group.children.push({ kind: "group", mode: group.mode === "any" ? "all" : "any", children: [self.newLeaf()] });
          self.changed(true, true);
        }
      }) : null,
      parent ? el("button", {
        type: "button", className: "btn btn-sm btn-link text-danger rule-remove-group", text: t.remove_group,
        onclick: function () { parent.children.splice(parent.children.indexOf(group), 1); self.changed(true); }
      }) : null
    ]);
    var head = el("div", { className: "rule-group-head d-flex flex-wrap align-items-center gap-2" }, [mode, actions]);
    var list = el("div", { className: "rule-children" });
    group.children.forEach(function (child, index) {
      var p = childPath(group, path, index);
      list.appendChild(child.kind === "group" ? self.renderGroup(child, p, depth + 1, group) : self.renderLeaf(child, p, group));
    });
    if (!group.children.length) {
      list.appendChild(el("p", { className: "rule-empty small text-body-secondary mb-0", text: group.mode === "all" ? t.empty_group : t.empty_any }));
    }
    var node = el("div", { className: "rule-group" + (parent ? " rule-group-nested" : ""), "data-path": path, role: "group", "aria-labelledby": id + "-mode" }, [head, list]);
    node.appendChild(el("div", { className: "rule-error invalid-feedback" }));
    return node;
  };

  Builder.prototype.renderLeaf = function (leaf, path, parent) {
    var self = this;
    var t = this.texts;
    var id = nextId("cond");
    var type = this.fieldType(leaf);
    var isTrait = this.isTrait(leaf);

    var fieldOptions = [];
    var known = !!this.fields[leaf.field] || isTrait;
    if (!known) fieldOptions.push(el("option", { value: leaf.field, selected: true, text: leaf.field }));
    this.catalog.forEach(function (f) {
      if (f.type === "trait") return;
      fieldOptions.push(el("option", { value: f.name, selected: f.name === leaf.field, text: String(f.label) }));
    });
    if (this.fields[TRAIT]) fieldOptions.push(el("option", { value: TRAIT, selected: isTrait, text: t.trait }));
    var field = el("select", {
      className: "form-select form-select-sm rule-field", id: id + "-field", "data-part": "field", "aria-label": t.field,
      onchange: function (e) {
        var value = e.target.value;
        leaf.field = value;
        if (value === TRAIT) leaf.type = leaf.type || "text"; else delete leaf.type;
        self.resetOp(leaf);
        self.changed(true);
      }
    }, fieldOptions);

    var parts = [field];
    if (isTrait) {
      parts.push(el("input", {
        type: "text", className: "form-control form-control-sm rule-trait-key", id: id + "-key", "data-part": "field",
        value: leaf.field.slice(TRAIT.length), placeholder: t.trait_key, "aria-label": t.trait_key, maxlength: "100",
        oninput: function (e) { leaf.field = TRAIT + e.target.value.trim(); self.changed(false); }
      }));
      parts.push(el("select", {
        className: "form-select form-select-sm rule-trait-type", id: id + "-type", "data-part": "type", "aria-label": t.trait_type,
        onchange: function (e) {
          leaf.type = e.target.value;
          self.resetOp(leaf);
          self.changed(true);
        }
      }, TRAIT_TYPES.map(function (ty) { return el("option", { value: ty, selected: ty === type, text: t.types[ty] || ty }); })));
    }

    var ops = this.operators(leaf).slice();
    if (leaf.op && !ops.some(function (o) { return o.name === leaf.op; })) ops.unshift({ name: leaf.op, label: leaf.op, value: "text" });
    parts.push(el("select", {
      className: "form-select form-select-sm rule-op", id: id + "-op", "data-part": "op", "aria-label": t.operator,
      onchange: function (e) {
        var before = self.valueKind(leaf);
        leaf.op = e.target.value;
        if (self.valueKind(leaf) !== before) leaf.value = defaultValue(self.valueKind(leaf));
        self.changed(true);
      }
    }, ops.map(function (o) { return el("option", { value: o.name, selected: o.name === leaf.op, text: String(o.label) }); })));

    this.valueEditor(leaf, this.valueKind(leaf), id).forEach(function (n) { parts.push(n); });

    parts.push(el("button", {
      type: "button", className: "btn btn-sm btn-link text-danger rule-remove ms-auto", "aria-label": t.remove, title: t.remove, text: "×",
      onclick: function () { parent.children.splice(parent.children.indexOf(leaf), 1); self.changed(true); }
    }));
    var row = el("div", { className: "rule-leaf-controls d-flex flex-wrap align-items-center gap-2" }, parts);
    return el("div", { className: "rule-leaf", "data-path": path }, [row, el("div", { className: "rule-error invalid-feedback" })]);
  };

  Builder.prototype.valueEditor = function (leaf, kind, id) {
    var self = this;
    var t = this.texts;
    var label = t.value;
    function number(value, set, extra) {
      return el("input", Object.assign({
        type: "number", step: "any", className: "form-control form-control-sm rule-value rule-number", "data-part": "value", "aria-label": label,
        value: value === null || value === undefined ? "" : String(value),
        oninput: function (e) { var v = e.target.value; set(v === "" ? null : Number(v)); self.changed(false); }
      }, extra || {}));
    }
    function date(value, set) {
      return el("input", {
        type: "date", className: "form-control form-control-sm rule-value rule-date", "data-part": "value", "aria-label": label,
        value: value || "",
        oninput: function (e) { set(e.target.value); self.changed(false); }
      });
    }
    function text(value, set, placeholder) {
      return el("input", {
        type: "text", className: "form-control form-control-sm rule-value rule-text", "data-part": "value", "aria-label": label,
        value: value === null || value === undefined ? "" : String(value), placeholder: placeholder || null, maxlength: "500",
        oninput: function (e) { set(e.target.value); self.changed(false); }
      });
    }
    if (kind === "none") return [];
    if (kind === "days") {
      // The operator's label says "… days" already.
      return [
        number(leaf.value, function (v) { leaf.value = v === null ? null : Math.trunc(v); }, { min: "0", step: "1", id: id + "-value", className: "form-control form-control-sm rule-value rule-days" })
      ];
    }
    if (kind === "number_range" || kind === "day_range") {
      var days = kind === "day_range";
      var pair = Array.isArray(leaf.value) ? leaf.value.slice(0, 2) : defaultValue(kind);
      while (pair.length < 2) pair.push(days ? "" : null);
      leaf.value = pair;
      var make = days ? date : number;
      return [
        make(pair[0], function (v) { leaf.value[0] = v; }),
        el("span", { className: "small text-body-secondary", text: t.and }),
        make(pair[1], function (v) { leaf.value[1] = v; })
      ];
    }
    var choices = this.choices(leaf);
    if (kind === "list") {
      var current = Array.isArray(leaf.value) ? leaf.value : [];
      leaf.value = current;
      if (choices) {
        // The chosen values as chips (each with a remove button) and a menu of the others.
        var labelOf = function (v) {
          var c = choices.filter(function (x) { return String(x.value) === String(v); })[0];
          return c ? c.label : String(v);
        };
        var chips = current.map(function (v, i) {
          return el("span", { className: "rule-chip" }, [
            labelOf(v),
            el("button", {
              type: "button", "aria-label": t.remove + " " + labelOf(v), title: t.remove, text: "×",
              onclick: function () { leaf.value.splice(i, 1); self.changed(true); }
            })
          ]);
        });
        var rest = choices.map(function (c, i) { return { c: c, i: i }; })
          .filter(function (x) { return !current.some(function (v) { return String(v) === String(x.c.value); }); });
        var adder = rest.length ? el("select", {
          className: "form-select form-select-sm rule-add-choice", "data-part": "value", "aria-label": t.add_value,
          onchange: function (e) {
            var o = e.target.selectedOptions[0];
            if (!o || o.dataset.index === undefined) return;
            leaf.value.push(choices[Number(o.dataset.index)].value);
            self.changed(true);
          }
        }, [el("option", { value: "", text: current.length ? t.add_more : t.choose, selected: true })].concat(
          rest.map(function (x) { return el("option", { value: String(x.c.value), "data-index": String(x.i), text: x.c.label }); })
        )) : null;
        return [el("div", { className: "rule-list", "data-part": "value" }, chips.concat([adder]))];
      }
      return [text(current.join(", "), function (v) {
        leaf.value = v.split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s; });
      }, t.list_hint)];
    }
    if (kind === "number") return [number(leaf.value, function (v) { leaf.value = v; })];
    if (kind === "day") return [date(leaf.value, function (v) { leaf.value = v; })];
    if (choices) {
      var options = [el("option", { value: "", text: t.choose, selected: leaf.value === "" || leaf.value === null || leaf.value === undefined })];
      var found = false;
      choices.forEach(function (c, i) {
        var selected = leaf.value !== null && leaf.value !== undefined && String(leaf.value) === String(c.value);
        found = found || selected;
        options.push(el("option", { value: String(c.value), "data-index": String(i), selected: selected, text: c.label }));
      });
      if (!found && leaf.value !== "" && leaf.value !== null && leaf.value !== undefined) {
        options.push(el("option", { value: String(leaf.value), selected: true, text: String(leaf.value) }));
      }
      return [el("select", {
        className: "form-select form-select-sm rule-value rule-choice", "data-part": "value", "aria-label": label,
        onchange: function (e) {
          var o = e.target.selectedOptions[0];
          leaf.value = o && o.dataset.index !== undefined ? choices[Number(o.dataset.index)].value : (o ? o.value : "");
          self.changed(false);
        }
      }, options)];
    }
    return [text(leaf.value, function (v) { leaf.value = v; })];
  };

  // --- keeping things in step -------------------------------------------------------------

  Builder.prototype.changed = function (structural, focusLast) {
    if (structural) this.render();
    if (focusLast) {
      var fields = this.root.querySelectorAll(".rule-field, .rule-mode");
      if (fields.length) fields[fields.length - 1].focus();
    }
    this.write(false);
  };

  Builder.prototype.write = function (initial, keepJSON) {
    var text = JSON.stringify(this.toJSON(this.tree));
    var changed = this.input.value !== text;
    this.input.value = text;
    if (this.json && !keepJSON) this.json.value = JSON.stringify(this.toJSON(this.tree), null, 2);
    if (!initial || changed) this.ask();
  };

  Builder.prototype.ask = function () {
    if (this.preview && window.htmx) window.htmx.trigger(this.preview, "rule-change");
  };

  Builder.prototype.applyJSON = function () {
    var raw;
    try {
      raw = JSON.parse(this.json.value);
    } catch (e) {
      if (this.jsonStatus) this.jsonStatus.textContent = this.texts.bad_json.replace("%(error)s", e.message);
      return;
    }
    this.tree = this.asGroup(this.fromJSON(raw));
    this.render();
    this.write(false, true);
    if (this.jsonStatus) this.jsonStatus.textContent = this.texts.json_applied;
  };

  Builder.prototype.clearErrors = function () {
    this.root.querySelectorAll(".is-invalid").forEach(function (n) { n.classList.remove("is-invalid"); n.removeAttribute("aria-invalid"); });
    this.root.querySelectorAll(".rule-error").forEach(function (n) { n.textContent = ""; n.classList.remove("d-block"); });
  };

  // The node whose path is the longest prefix of the error's path gets the message; within a
  // condition, the part the rest of the path names (value, op, field, type) is marked.
  Builder.prototype.markError = function (path, message) {
    this.clearErrors();
    var best = null;
    var bestLen = -1;
    this.root.querySelectorAll("[data-path]").forEach(function (node) {
      var p = node.dataset.path;
      var hit = p === "" || path === p || path.indexOf(p + ".") === 0 || path.indexOf(p + "[") === 0;
      if (hit && p.length > bestLen) { best = node; bestLen = p.length; }
    });
    if (!best) return;
    var rest = path.slice(bestLen).replace(/^\./, "");
    var part = rest.split(/[.[]/)[0];
    var index = /^[a-z_]+\[(\d+)\]/.exec(rest);
    var marked = false;
    if (best.classList.contains("rule-leaf") && part) {
      var targets = Array.prototype.slice.call(best.querySelectorAll("[data-part='" + part + "']"));
      // "value[1]": the second of two inputs (a range); a list shows its values in one place.
      if (index && targets.length > 1 && targets[Number(index[1])]) targets = [targets[Number(index[1])]];
      targets.forEach(function (n) {
        n.classList.add("is-invalid"); n.setAttribute("aria-invalid", "true"); marked = true;
      });
    }
    if (!marked && best.classList.contains("rule-leaf")) {
      best.querySelectorAll("[data-part]").forEach(function (n) { n.classList.add("is-invalid"); });
    }
    var box = best.querySelector(":scope > .rule-error");
    if (box) { box.textContent = message; box.classList.add("d-block"); }
  };

  Builder.prototype.showPreviewError = function () {
    var problem = this.preview.querySelector("[data-error-path]");
    if (problem) this.markError(problem.dataset.errorPath, problem.dataset.errorMessage);
    else this.clearErrors();
    // On a phone the preview is below the form: a one-line copy stays in view above the rule.
    var mini = document.getElementById(this.root.dataset.mini);
    if (!mini) return;
    var count = this.preview.querySelector("#preview-count");
    var words = count ? count.nextElementSibling : this.preview.querySelector(".preview-problem .fw-semibold");
    mini.textContent = ((count ? count.textContent + " " : "") + (words ? words.textContent : "")).trim();
    mini.classList.toggle("text-danger", !!problem);
  };

  // Other editors (the playbook editor's branch conditions) build one on a node they add later.
  window.TendRuleBuilder = Builder;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".rule-builder[data-catalog]").forEach(function (root) {
      root.builder = new Builder(root);
    });
  });
})();
