#include "reconciler/server/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/url.h"

namespace amlc::reconciler {

namespace {

using nlohmann::json;
using Digest = std::array<unsigned char, 32>;  // SHA-256

constexpr std::string_view kSignaturePrefix = "sha256=";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The 32 bytes that 64 hex digits spell; nullopt for anything else.
std::optional<Digest> DecodeDigest(std::string_view hex) {
  Digest digest{};
  if (hex.size() != 2 * digest.size()) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    int high = HexValue(hex[2 * i]), low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return digest;
}

std::optional<Digest> HmacSha256(std::string_view secret, std::string_view body) {
  Digest digest{};
  unsigned int length = 0;
  const unsigned char* done = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                                   reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                                   digest.data(), &length);
  if (done == nullptr || length != digest.size()) return std::nullopt;
  return digest;
}

// The value of form field `name` in "a=1&payload=%7B...", still encoded.
std::optional<std::string_view> FormField(std::string_view form, std::string_view name) {
  while (!form.empty()) {
    std::string_view field = form.substr(0, form.find('&'));
    form.remove_prefix(std::min(form.size(), field.size() + 1));
    if (field.size() > name.size() && field.starts_with(name) && field[name.size()] == '=') {
      return field.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

// ParseWebhook is also handed GitHub's form bodies as they came.
std::string JsonText(std::string_view body) {
  if (!body.starts_with("payload=")) return std::string(body);
  return FormDecode(FormField(body, "payload").value_or(""));
}

// Payload fields are read leniently (absent, null or of another type all
// read as empty); the checks below name the fields that must be there.
const json& Member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string Text(const json& object, const char* key) {
  const json& value = Member(object, key);
  return value.is_string() ? value.get<std::string>() : "";
}

int64_t Integer(const json& object, const char* key) {
  const json& value = Member(object, key);
  return value.is_number_integer() ? value.get<int64_t>() : 0;
}

std::string FirstNonEmpty(std::initializer_list<std::string> candidates) {
  for (const std::string& candidate : candidates) {
    if (!candidate.empty()) return candidate;
  }
  return "";
}

Status Malformed(std::string_view event, const std::string& what) {
  return Status(StatusCode::kInvalidArgument,
                "the " + std::string(event) + " webhook payload " + what);
}

// Gitea sends no head_commit on older versions; its last commit is the head.
std::string HeadCommitMessage(const json& payload) {
  const json& head = Member(payload, "head_commit");
  if (head.is_object()) return Text(head, "message");
  const json& commits = Member(payload, "commits");
  if (commits.is_array() && !commits.empty()) return Text(commits.back(), "message");
  return "";
}

StatusOr<WebhookEvent> ReadPush(const json& payload) {
  WebhookEvent event;
  event.kind = WebhookEvent::kPush;
  event.ref = Text(payload, "ref");
  event.after = Text(payload, "after");
  if (event.ref.empty())
    return Malformed("push", "has no \"ref\" (the pushed ref, e.g. refs/heads/main)");
  if (event.after.empty()) return Malformed("push", "has no \"after\" (the pushed commit)");
  const json& pusher = Member(payload, "pusher");
  event.pusher =
      FirstNonEmpty({Text(pusher, "name"), Text(pusher, "login"), Text(pusher, "username"),
                     Text(Member(payload, "sender"), "login")});
  event.head_commit_message = HeadCommitMessage(payload);
  return event;
}

std::string NormalizedAction(std::string action) {
  return action == "synchronized" ? "synchronize" : action;  // Gitea's spelling
}

StatusOr<WebhookEvent> ReadPullRequest(const json& payload) {
  const json& pr = Member(payload, "pull_request");
  if (!pr.is_object()) return Malformed("pull_request", "has no \"pull_request\" object");
  WebhookEvent event;
  event.kind = WebhookEvent::kPullRequest;
  PullRequestEvent& out = event.pull_request;
  out.action = NormalizedAction(Text(payload, "action"));
  out.number = Integer(payload, "number");
  if (out.number == 0) out.number = Integer(pr, "number");
  out.repository = Text(Member(payload, "repository"), "full_name");
  out.title = Text(pr, "title");
  out.head_ref = Text(Member(pr, "head"), "ref");
  out.head_sha = Text(Member(pr, "head"), "sha");
  out.base_ref = Text(Member(pr, "base"), "ref");
  if (out.action.empty()) return Malformed("pull_request", "has no \"action\"");
  if (out.number <= 0) return Malformed("pull_request", "has no pull request \"number\"");
  if (out.head_ref.empty() || out.head_sha.empty()) {
    return Malformed("pull_request", "has no \"pull_request.head\" with \"ref\" and \"sha\"");
  }
  if (out.base_ref.empty()) return Malformed("pull_request", "has no \"pull_request.base.ref\"");
  return event;
}

WebhookEvent::Kind KindOf(std::string_view event) {
  if (event == "push") return WebhookEvent::kPush;
  if (event == "pull_request") return WebhookEvent::kPullRequest;
  if (event == "ping") return WebhookEvent::kPing;
  return WebhookEvent::kOther;
}

std::string EventHeaderName(std::string_view forge) {
  return forge == "gitea" ? "X-Gitea-Event" : "X-GitHub-Event";
}

}  // namespace

bool VerifySignature(std::string_view secret, std::string_view signed_bytes,
                     std::string_view signature_header, SignatureForm form) {
  if (secret.empty() || signature_header.empty()) return false;
  std::string_view hex = signature_header;
  if (form == SignatureForm::kPrefixed) {
    if (!hex.starts_with(kSignaturePrefix)) return false;
    hex.remove_prefix(kSignaturePrefix.size());
  }
  std::optional<Digest> given = DecodeDigest(hex);
  std::optional<Digest> expected = HmacSha256(secret, signed_bytes);
  if (!given || !expected) return false;
  return CRYPTO_memcmp(given->data(), expected->data(), expected->size()) == 0;
}

StatusOr<std::string> WebhookPayloadText(std::string_view content_type, std::string_view body) {
  std::string media_type(content_type.substr(0, content_type.find(';')));
  while (media_type.ends_with(' ')) media_type.pop_back();
  std::transform(media_type.begin(), media_type.end(), media_type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (media_type != "application/x-www-form-urlencoded") return std::string(body);
  std::optional<std::string_view> payload = FormField(body, "payload");
  if (!payload) {
    return Status(StatusCode::kInvalidArgument,
                  "the form-encoded webhook body has no \"payload\" field (the forge sends "
                  "payload=<JSON>)");
  }
  return FormDecode(*payload);
}

StatusOr<WebhookEvent> ParseWebhook(std::string_view forge, std::string_view event_header,
                                    std::string_view body) {
  if (forge != "github" && forge != "gitea") {
    return Status(StatusCode::kInvalidArgument,
                  "unknown forge '" + std::string(forge) + "' (expected github or gitea)");
  }
  if (event_header.empty()) {
    return Status(StatusCode::kInvalidArgument, "the request has no " + EventHeaderName(forge) +
                                                    " header: is it a " + std::string(forge) +
                                                    " webhook delivery?");
  }
  json payload;
  try {
    payload = json::parse(JsonText(body));
  } catch (const json::exception& error) {
    return Status(StatusCode::kInvalidArgument, "the " + std::string(event_header) +
                                                    " webhook body is not valid JSON (" +
                                                    error.what() + ")");
  }
  if (!payload.is_object()) {
    return Malformed(event_header, "is not a JSON object");
  }
  WebhookEvent::Kind kind = KindOf(event_header);
  StatusOr<WebhookEvent> event = WebhookEvent{};
  if (kind == WebhookEvent::kPush) event = ReadPush(payload);
  if (kind == WebhookEvent::kPullRequest) event = ReadPullRequest(payload);
  if (!event.ok()) return event;
  event->kind = kind;
  event->event = std::string(event_header);
  return event;
}

}  // namespace amlc::reconciler
