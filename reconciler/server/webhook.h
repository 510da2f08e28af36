#ifndef AMLC_RECONCILER_SERVER_WEBHOOK_H_
#define AMLC_RECONCILER_SERVER_WEBHOOK_H_

// Forge webhooks as plain values: checking a delivery's signature and reading
// the few fields of a push or pull-request payload the reconciler acts on.
// Pure functions, no I/O; nlohmann::json stays inside webhook.cc.

#include <string>
#include <string_view>

#include "base/status.h"
#include "reconciler/server/reconciler_control.h"

namespace amlc::reconciler {

/// How a forge writes its HMAC-SHA256 signature header. Each form is
/// accepted only where that forge sends it, so that a header stripped of its
/// prefix (or given one it never has) does not pass.
enum class SignatureForm {
  kPrefixed,  // "sha256=<hex>": GitHub's X-Hub-Signature-256 (Gitea sends it too)
  kBareHex,   // "<hex>": Gitea's X-Gitea-Signature, Forgejo's X-Forgejo-Signature
};

/// Whether `signature_header`, written in `form`, is the HMAC-SHA256 of
/// `signed_bytes` keyed with `secret`. Hex digits of either case. The digests
/// are compared in constant time. An empty secret or header, a missing or
/// unexpected "sha256=" prefix, or a value that is not 64 hex digits is
/// never accepted.
bool VerifySignature(std::string_view secret, std::string_view signed_bytes,
                     std::string_view signature_header, SignatureForm form);

/// The JSON text of a delivery: the body itself, or for a form-encoded one
/// (`content_type` application/x-www-form-urlencoded, which GitHub and Gitea
/// both offer) the decoded `payload` field. kInvalidArgument when a form has
/// no `payload` field.
StatusOr<std::string> WebhookPayloadText(std::string_view content_type, std::string_view body);

/// One webhook delivery, reduced to what the reconciler needs.
struct WebhookEvent {
  enum Kind { kPush, kPullRequest, kPing, kOther };
  Kind kind = kOther;
  std::string event;  // the event header as sent ("push", "issues", ...)
  // kPush:
  std::string ref;                  // "refs/heads/main"
  std::string after;                // the commit the ref now points at (zeros: deleted)
  std::string pusher;               // pusher.name (GitHub), pusher.login (Gitea) or sender.login
  std::string head_commit_message;  // "" when the push carried no commit
  // kPullRequest:
  PullRequestEvent pull_request;
};

/// Reads a delivery. `forge` is "github" or "gitea"; `event_header` is the
/// value of X-GitHub-Event or X-Gitea-Event ("push", "pull_request", "ping";
/// anything else is kOther). The body is the JSON payload, or GitHub's
/// form-encoded "payload=<json>" when the hook's content type is
/// application/x-www-form-urlencoded. kInvalidArgument, with a message that
/// says what is wrong, for an unknown forge, a missing event header, a body
/// that is not JSON, or a push or pull request without the fields above.
/// Gitea's pull-request action "synchronized" is reported as GitHub's
/// "synchronize", so callers handle one vocabulary.
StatusOr<WebhookEvent> ParseWebhook(std::string_view forge, std::string_view event_header,
                                    std::string_view body);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_SERVER_WEBHOOK_H_
