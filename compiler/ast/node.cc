#include "compiler/ast/node.h"

namespace amlc::compiler::ast {

const Node* Node::Find(std::string_view key) const {
  for (const Entry& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

std::string Node::ScalarAt(std::string_view key) const {
  const Node* node = Find(key);
  return node && node->kind == NodeKind::kScalar ? node->text : std::string();
}

}  // namespace amlc::compiler::ast
