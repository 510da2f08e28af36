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

/// Whether `signature_header` is the HMAC-SHA256 of `body` keyed with
/// `secret`, as GitHub ("sha256=<hex>", X-Hub-Signature-256) and Gitea
/// ("<hex>", X-Gitea-Signature) send it. Hex digits of either case. The
/// digests are compared in constant time. An empty secret or header, or a
/// value that is not 64 hex digits, is never accepted.
bool VerifySignature(std::string_view secret, std::string_view body,
                     std::string_view signature_header);

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
