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

bool ObjectBody(Call& call, nlohmann::json& body) {
  if (call.request.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    call.Message(415, call.request.method + " " + call.request.path + " takes Content-Type: application/json");
    return false;
  }
  body = nlohmann::json::parse(call.request.body, nullptr, false);
  if (!body.is_object()) {
    call.Message(400, "the body is not a JSON object");
    return false;
  }
  return true;
}

std::string StringField(const nlohmann::json& body, const char* key) {
  return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void Fail(Call& call, const Status& status) { call.Message(HttpStatusOf(status), status.message()); }

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
