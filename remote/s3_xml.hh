// SPDX-License-Identifier: Apache-2.0
// A small tolerant scanner for the XML S3 sends back (errors, listings, multipart results) and
// the escaping for the XML we send. Not a general XML parser: S3's responses are flat, known
// shapes, and a scanner avoids a new dependency for them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::remote::xml {

/// The text of the first <tag>...</tag> in `doc` (entities decoded); nullopt when absent.
/// `<tag/>` is an empty string.
std::optional<std::string> find(std::string_view doc, std::string_view tag);

/// The raw inner XML of every <tag>...</tag> at any depth, in order (not decoded: scan them
/// with find()).
std::vector<std::string_view> find_all(std::string_view doc, std::string_view tag);

/// Decodes the five predefined entities and numeric character references.
std::string decode(std::string_view text);

/// At most `limit` bytes of `text` with control characters as '?' and "..." when cut: how a
/// store's or STS's error code and message are quoted to users (the answering server chose them).
std::string printable_prefix(std::string_view text, size_t limit);

/// Escapes & < > " ' for element text.
std::string escape(std::string_view text);

}  // namespace tv::remote::xml
