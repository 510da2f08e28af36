#ifndef AMLC_SERVER_OPENAPI_DOCUMENT_H_
#define AMLC_SERVER_OPENAPI_DOCUMENT_H_

namespace amlc::server {

/// server/openapi.json as checked in (compiled into the binary).
const char* OpenApiDocument();

}  // namespace amlc::server

#endif  // AMLC_SERVER_OPENAPI_DOCUMENT_H_
