#include "scenarios/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace planttwin::svg {

std::string num(double v, int decimals) {
  if (!std::isfinite(v)) v = 0;
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  std::string s = b;
  // "-0", "-0.0": a negative zero after rounding
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::vector<double> ticks(double lo, double hi, int count) {
  std::vector<double> out;
  if (!(hi > lo) || count < 1) {
    out.push_back(lo);
    return out;
  }
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double v = first; v <= hi + step * 1e-9 && out.size() < 50; v += step) out.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

Chart::Chart(std::string kind, double width, double height, double left, double right, double top, double bottom)
    : kind_(std::move(kind)), width_(width), height_(height), left_(left), right_(right), top_(top), bottom_(bottom) {}

void Chart::x_range(double x0, double x1) {
  x0_ = x0;
  x1_ = x1 > x0 ? x1 : x0 + 1;
}
void Chart::y_range(double y0, double y1) {
  y0_ = y0;
  y1_ = y1 > y0 ? y1 : y0 + 1;
}
double Chart::px(double x) const { return left() + (x - x0_) / (x1_ - x0_) * (right() - left()); }
double Chart::py(double y) const { return bottom() - (y - y0_) / (y1_ - y0_) * (bottom() - top()); }

void Chart::axes(const std::string& x_label, const std::string& y_label, int x_decimals, int y_decimals) {
  std::string& b = body_;
  b += "<g class=\"axes\">";
  for (double v : ticks(x0_, x1_)) {
    const double x = px(v);
    b += "<line class=\"grid\" x1=\"" + num(x) + "\" y1=\"" + num(top()) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom()) + "\"/>";
    b += "<text x=\"" + num(x) + "\" y=\"" + num(bottom() + 14) + "\" text-anchor=\"middle\">" + num(v, x_decimals) + "</text>";
  }
  for (double v : ticks(y0_, y1_, 5)) {
    const double y = py(v);
    b += "<line class=\"grid\" x1=\"" + num(left()) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right()) + "\" y2=\"" + num(y) + "\"/>";
    b += "<text x=\"" + num(left() - 4) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + num(v, y_decimals) + "</text>";
  }
  b += "<rect class=\"frame\" x=\"" + num(left()) + "\" y=\"" + num(top()) + "\" width=\"" + num(right() - left()) + "\" height=\"" +
       num(bottom() - top()) + "\"/>";
  b += "<text class=\"label\" x=\"" + num((left() + right()) / 2) + "\" y=\"" + num(height_ - 6) + "\" text-anchor=\"middle\">" + esc(x_label) +
       "</text>";
  b += "<text class=\"label\" transform=\"translate(12 " + num((top() + bottom()) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       esc(y_label) + "</text>";
  b += "</g>";
}

void Chart::category_axis(const std::vector<std::string>& rows, const std::string& x_label, int x_decimals) {
  rows_ = rows.size();
  std::string& b = body_;
  b += "<g class=\"axes\">";
  for (double v : ticks(x0_, x1_)) {
    const double x = px(v);
    b += "<line class=\"grid\" x1=\"" + num(x) + "\" y1=\"" + num(top()) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom()) + "\"/>";
    b += "<text x=\"" + num(x) + "\" y=\"" + num(bottom() + 14) + "\" text-anchor=\"middle\">" + num(v, x_decimals) + "</text>";
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i % 2 == 1)
      b += "<rect class=\"band\" x=\"" + num(left()) + "\" y=\"" + num(row_y(i) - row_height() / 2) + "\" width=\"" + num(right() - left()) +
           "\" height=\"" + num(row_height()) + "\"/>";
    b += "<text x=\"" + num(left() - 4) + "\" y=\"" + num(row_y(i) + 4) + "\" text-anchor=\"end\">" + esc(rows[i]) + "</text>";
  }
  b += "<rect class=\"frame\" x=\"" + num(left()) + "\" y=\"" + num(top()) + "\" width=\"" + num(right() - left()) + "\" height=\"" +
       num(bottom() - top()) + "\"/>";
  b += "<text class=\"label\" x=\"" + num((left() + right()) / 2) + "\" y=\"" + num(height_ - 6) + "\" text-anchor=\"middle\">" + esc(x_label) +
       "</text>";
  b += "</g>";
}

double Chart::row_height() const { return rows_ ? (bottom() - top()) / static_cast<double>(rows_) : bottom() - top(); }
double Chart::row_y(std::size_t row) const { return top() + (static_cast<double>(row) + 0.5) * row_height(); }

void Chart::empty(const std::string& message) {
  empty_ = true;
  body_ += "<rect class=\"empty\" x=\"" + num(left()) + "\" y=\"" + num(top()) + "\" width=\"" + num(right() - left()) + "\" height=\"" +
           num(bottom() - top()) + "\"/>";
  body_ += "<text class=\"empty-text\" x=\"" + num((left() + right()) / 2) + "\" y=\"" + num((top() + bottom()) / 2) +
           "\" text-anchor=\"middle\">" + esc(message) + "</text>";
}

void Chart::line(double x0, double y0, double x1, double y1, const std::string& stroke, double width, const std::string& extra) {
  body_ += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y1) + "\" stroke=\"" + stroke +
           "\" stroke-width=\"" + num(width) + "\"" + (extra.empty() ? "" : " " + extra) + "/>";
}

void Chart::rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra, const std::string& title) {
  body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(std::max(w, 0.0)) + "\" height=\"" + num(std::max(h, 0.0)) +
           "\" fill=\"" + fill + "\"" + (extra.empty() ? "" : " " + extra) + (title.empty() ? "/>" : "><title>" + esc(title) + "</title></rect>");
}

void Chart::circle(double x, double y, double r, const std::string& fill, const std::string& extra) {
  body_ += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\" fill=\"" + fill + "\"" + (extra.empty() ? "" : " " + extra) +
           "/>";
}

void Chart::text(double x, double y, const std::string& s, const std::string& extra) {
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\"" + (extra.empty() ? "" : " " + extra) + ">" + esc(s) + "</text>";
}

void Chart::polyline(const std::vector<std::pair<double, double>>& pts, const std::string& stroke, double width, const std::string& extra) {
  if (pts.empty()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width) + "\"" + (extra.empty() ? "" : " " + extra) +
           " points=\"";
  for (size_t i = 0; i < pts.size(); ++i) body_ += (i ? " " : "") + num(pts[i].first) + "," + num(pts[i].second);
  body_ += "\"/>";
}

std::string Chart::str() const {
  return "<svg class=\"chart\" data-chart=\"" + kind_ + "\"" + (empty_ ? " data-empty=\"1\"" : "") + " viewBox=\"0 0 " + num(width_, 0) + " " +
         num(height_, 0) + "\" role=\"img\">" + body_ + "</svg>";
}

}  // namespace planttwin::svg
