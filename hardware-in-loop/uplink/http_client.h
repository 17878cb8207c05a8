// A small HTTP/1.1 client for the uplink's sender thread (Boost.Beast): one request at a time,
// keep-alive, a deadline per request, and cancel() from another thread. https:// goes over TLS
// (OpenSSL): the server's certificate is verified against the system's CAs or a given CA file,
// and its name against the URL's host; there is no way to turn verification off.
#include <utility>
#include <vector>
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "engine/time.h"

namespace planttwin::uplink {

struct HttpTarget {
  bool tls = false;                // https
  std::string host, port, target;  // target: "/path?query", at least "/"
};
// http://host[:port][/path] or https://host[:port][/path] (ports 80 and 443 by default); throws
// std::runtime_error for another scheme or a malformed URL.
HttpTarget parse_http_url(const std::string& url);

struct HttpClientOptions {
  // https: PEM file of the CAs to trust instead of the system's (a platform with a private CA).
  std::string ca_file;
  // Extra request headers (e.g. Authorization), sent with every request.
  std::vector<std::pair<std::string, std::string>> headers;
};

// "Name: value" -> {Name, value}; throws std::runtime_error naming the line when malformed (the
// name must be an HTTP token, the value printable and single-line).
std::pair<std::string, std::string> parse_http_header(const std::string& line);

struct HttpResult {
  bool answered = false;  // a complete response was read
  int status = 0;
  std::string body;
  std::string error;  // transport error when !answered
};

class HttpClient {
 public:
  // Throws std::runtime_error when the TLS set-up fails (e.g. an unreadable CA file).
  explicit HttpClient(HttpTarget target, HttpClientOptions opt = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs a JSON body with an Idempotency-Key header; blocks until answered, failed, timed out
  // or cancelled. A kept-alive connection that turns out dead is retried once on a new one.
  HttpResult post(const std::string& body, const std::string& idempotency_key, Micros timeout);
  // The same to another path on the same host ("/path?query", "" : the URL's own), with more
  // headers for this request alone (a platform profile's credentials).
  HttpResult post(const std::string& path, const std::string& body, const std::string& idempotency_key,
                  const std::vector<std::pair<std::string, std::string>>& headers, Micros timeout);
  // The URL's path ("/" at least).
  const std::string& base_path() const;
  // From any thread: the running post() returns at once with an error, later ones too.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin::uplink
