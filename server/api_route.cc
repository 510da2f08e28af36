#include "server/api_route.h"

#include <httplib.h>

#include "base/http_listener.h"

namespace amlc::server {

std::string Call::Query(const std::string& name) const { return request.get_param_value(name.c_str()); }

bool Call::HasQuery(const std::string& name) const { return request.has_param(name.c_str()); }

void Call::Json(int status, const nlohmann::json& body) {
  response.status = status;
  // Names, messages and log text come from users: invalid UTF-8 is replaced, not thrown on.
  JsonText(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Call::JsonText(int status, std::string body) {
  response.status = status;
  SetBody(request, response, std::move(body), "application/json");
}

void Call::Message(int status, const std::string& message) { Json(status, {{"message", message}}); }

std::string PathPattern(const std::string& path_template) {
  std::string pattern;
  for (size_t i = 0; i < path_template.size(); ++i) {
    char c = path_template[i];
    if (c == '{') {
      size_t end = path_template.find('}', i);
      bool greedy = path_template[end - 1] == '+';  // {path+}: the rest of the path, slashes included
      i = end;
      pattern += greedy ? "(.+)" : "([^/]+)";
    } else if (c == '.') {
      pattern += "\\.";
    } else {
      pattern += c;
    }
  }
  return pattern;
}

}  // namespace amlc::server
