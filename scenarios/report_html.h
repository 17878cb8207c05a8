// report.html, summary.html and the page shell of drill.html (docs/report.md "report.html"): one
// self-contained page per run for inspectors, Chinese and English (a switch on screen, both
// printed), inline CSS and SVG drawn here (scenarios/svg_chart.h), print CSS for A4. Deterministic:
// the same scenario and result give the same bytes (no clock, no locale), and nothing it writes
// enters a hash.
#pragma once
#include <string>
#include <vector>

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

// The run's page (report.html beside report.md): verdict and requirement table, plant map per
// floor with every alarm, alarm timeline, headcounts per zone, accuracy (CDF, alarm delay, missed
// and false alarms by rule), permits' Gantt chart with AQ 3064.2 codes, provenance. Every chart is
// drawn even when empty (saying so). `extra`: further provenance rows.
std::string report_html(const Scenario& sc, const RunResult& r, const std::vector<HtmlFact>& extra = {});

// The suite's page (summary.html): verdict, one row per scenario linking its report.html (relative
// to the summary's folder), requirements and AQ 3064.2 codes across the suite.
std::string summary_html(const std::vector<SummaryRow>& rows);

}  // namespace planttwin
