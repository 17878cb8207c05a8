// Small SVG drawing helpers for the HTML reports (report.html, summary.html, drill.html): a chart
// frame with linear axes, ticks and labels, and the primitives the charts are made of. Output is
// plain text, deterministic (fixed decimals, no locale, no clock), so the same data gives the same
// bytes. Nothing here knows about scenarios or alarms (scenarios/report_html.cpp draws those).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace planttwin::svg {

// `v` with `decimals` decimals, "C" style; -0 printed as 0.
std::string num(double v, int decimals = 1);
// &, <, >, " and ' escaped for XML text and attributes.
std::string esc(std::string_view s);

// Tick values for [lo, hi]: about `count` round steps (1, 2, 5 x 10^k) covering the range.
std::vector<double> ticks(double lo, double hi, int count = 6);

// A chart: an SVG of `width` x `height` px (viewBox; scales with the page) with a plot area inside
// margins, data ranges [x0, x1] x [y0, y1] mapped linearly (y up). Draw into it, then str().
class Chart {
 public:
  // `kind` becomes the svg's data-chart attribute (tests and the browser check look for it).
  Chart(std::string kind, double width, double height, double left = 56, double right = 16, double top = 14, double bottom = 40);

  void x_range(double x0, double x1);
  void y_range(double y0, double y1);
  double px(double x) const;  // data -> pixel
  double py(double y) const;
  double left() const { return left_; }
  double right() const { return width_ - right_; }
  double top() const { return top_; }
  double bottom() const { return height_ - bottom_; }
  double width() const { return width_; }
  double height() const { return height_; }

  // axes with ticks, grid lines and labels (label texts may carry both languages)
  void axes(const std::string& x_label, const std::string& y_label, int x_decimals = 0, int y_decimals = 0);
  // y axis with one named row per category (top to bottom), for timelines and Gantt charts
  void category_axis(const std::vector<std::string>& rows, const std::string& x_label, int x_decimals = 0);
  double row_y(std::size_t row) const;  // centre of a category row, pixels
  double row_height() const;

  // The "nothing to show" frame: a dashed box with the message in the middle (same size as a chart).
  void empty(const std::string& message);

  // raw SVG content in pixel coordinates
  void raw(const std::string& s) { body_ += s; }
  void line(double x0, double y0, double x1, double y1, const std::string& stroke, double width = 1, const std::string& extra = "");
  // `title`: the hover text (a <title> child), none when empty
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "", const std::string& title = "");
  void circle(double x, double y, double r, const std::string& fill, const std::string& extra = "");
  void text(double x, double y, const std::string& s, const std::string& extra = "");
  // a polyline through pixel points
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& stroke, double width = 1.5,
                const std::string& extra = "");

  std::string str() const;
  bool drawn_empty() const { return empty_; }

 private:
  std::string kind_;
  double width_, height_, left_, right_, top_, bottom_;
  double x0_ = 0, x1_ = 1, y0_ = 0, y1_ = 1;
  std::size_t rows_ = 0;
  bool empty_ = false;
  std::string body_;
};

}  // namespace planttwin::svg
