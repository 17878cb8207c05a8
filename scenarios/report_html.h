// report.html, summary.html and the page shell of drill.html (docs/report.md "report.html"): one
// self-contained page per run for inspectors, Chinese and English (a switch on screen, both
// printed), inline CSS and SVG drawn here (scenarios/svg_chart.h), print CSS for A4. Deterministic:
// the same scenario and result give the same bytes (no clock, no locale), and nothing it writes
// enters a hash.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/report.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace planttwin {

// Text in both languages: <span class="zh">zh</span> <span class="en">en</span> (escaped).
std::string html_bilingual(const std::string& zh, const std::string& en);
// &, <, >, " and ' escaped.
std::string html_escape(const std::string& s);
// A whole page: doctype, inline style (screen and A4 print), the language switch, `body`.
std::string html_page(const std::string& title, const std::string& body);

// A row the caller adds to the provenance table (live sessions and replays: their counters).
struct HtmlFact {
  std::string zh, en, value;  // value: plain text, escaped by the page
};

// Up to this many alarms on a floor, report.html's map draws one marker per alarm with its hover
// text (numbered for print up to 60); past it, the floor's markers are merged into one path per
// level and the hover text sits on a grid of cells (about 24 across the map), one per occupied cell
// with its count, counts by type and level, and ids (docs/report.md "report.html").
inline constexpr std::size_t kMapMarkerDetail = 300;

// The run's page (report.html beside report.md): verdict and requirement table, plant map per
// floor with every alarm, alarm timeline, headcounts per zone, accuracy (CDF, alarm delay, missed
// and false alarms by rule), permits' Gantt chart with AQ 3064.2 codes, provenance. Every chart is
// drawn even when empty (saying so). `extra`: further provenance rows.
std::string report_html(const Scenario& sc, const RunResult& r, const std::vector<HtmlFact>& extra = {});

// The suite's page (summary.html): verdict, one row per scenario linking its report.html (relative
// to the summary's folder), requirements and AQ 3064.2 codes across the suite.
std::string summary_html(const std::vector<SummaryRow>& rows);

// A section added to a page report_html wrote (scenarios/report_platform_html.cpp): placed before
// the provenance section, with its link in the contents line. false with `error` when `page` is not
// such a page or already has a section of that id.
struct HtmlSection {
  std::string id, zh, en, body;  // body: HTML
};
bool add_html_section(std::string& page, const HtmlSection& s, std::string& error);

// The park platform's verdict (report.json's `platform` section, from `live --platform-verdict`)
// as the body of report.html's "Park platform" section: PL-11 and SO-09 with result and evidence.
std::string platform_section_html(const nlohmann::ordered_json& section);

}  // namespace planttwin
