/* Masthead typeahead: the header's "Type to Search" box shows stories as the reader types.
 *
 * Progressive enhancement of a plain GET form (which keeps working without this
 * script), following the WAI-ARIA 1.2 combobox pattern with a listbox popup:
 * the input gets role="combobox", aria-expanded, aria-controls and
 * aria-activedescendant; Down/Up move through the options, Enter opens the
 * active story (or submits the search when none is active), Escape closes the
 * list (a second Escape clears the box), and a polite live region announces how
 * many stories were found. Text is inserted with textContent only.
 * No dependencies. */
(function () {
  "use strict";

  var MIN_LENGTH = 2; // the server answers nothing below this (MIN_SUGGEST_LENGTH)
  var DELAY_MS = 120; // wait for a pause in typing before asking

  function init(form) {
    var input = form.querySelector('input[name="q"]');
    var endpoint = form.getAttribute("data-typeahead");
    if (!input || !endpoint || !window.fetch) return;

    var listId = input.id + "-listbox";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "typeahead";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggested stories");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    form.appendChild(list);
    form.appendChild(status);
    form.classList.add("site-search--typeahead");

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var controller = null;
    var options = [];
    var active = -1;
    var lastAsked = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      if (!options.length) return;
      if (active >= 0) options[active].setAttribute("aria-selected", "false");
      active = (index + options.length) % options.length;
      var option = options[active];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      if (option.scrollIntoView) option.scrollIntoView({ block: "nearest" });
    }

    function formatDate(iso) {
      if (!iso) return "";
      var date = new Date(iso);
      if (isNaN(date)) return "";
      return date.toLocaleDateString(document.documentElement.lang || undefined, {
        day: "numeric", month: "short", year: "numeric"
      });
    }

    function option(id, href, title, meta) {
      var li = document.createElement("li");
      li.id = id;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-href", href);
      var strong = document.createElement("span");
      strong.className = "typeahead__title";
      strong.textContent = title;
      li.appendChild(strong);
      if (meta) {
        var small = document.createElement("span");
        small.className = "typeahead__meta";
        small.textContent = meta;
        li.appendChild(small);
      }
      li.addEventListener("mousedown", function (event) { event.preventDefault(); });
      li.addEventListener("click", function () { go(li); });
      return li;
    }

    function render(query, results) {
      list.textContent = "";
      options = [];
      active = -1;
      results.forEach(function (item, i) {
        var meta = [item.section, formatDate(item.published)].filter(Boolean).join(" · ");
        options.push(option(listId + "-" + i, item.url, item.headline, meta));
      });
      var all = option(
        listId + "-all",
        form.getAttribute("action") + "?q=" + encodeURIComponent(query),
        "See all results for \u201c" + query + "\u201d",
        ""
      );
      all.classList.add("typeahead__all");
      options.push(all);
      options.forEach(function (li) { list.appendChild(li); });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = results.length
        ? results.length + (results.length === 1 ? " story" : " stories") + " found. Use the up and down arrows to choose."
        : "No stories found yet. Press Enter to search.";
    }

    function go(li) {
      var href = li.getAttribute("data-href");
      if (href) window.location.assign(href);
    }

    function ask() {
      var query = input.value.trim();
      if (query.length < MIN_LENGTH) {
        lastAsked = "";
        close();
        status.textContent = "";
        return;
      }
      if (query === lastAsked) return;
      lastAsked = query;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(endpoint + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || input.value.trim() !== query) return;
          render(query, data.results || []);
        })
        .catch(function () { /* offline or aborted: the form still submits */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { lastAsked = ""; ask(); return; }
        setActive(active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        setActive(active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          go(options[active]);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          lastAsked = "";
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("focus", function () {
      if (options.length && input.value.trim() === lastAsked) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    });
    form.addEventListener("submit", close);
  }

  function start() {
    var forms = document.querySelectorAll("form[data-typeahead]");
    for (var i = 0; i < forms.length; i++) init(forms[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
