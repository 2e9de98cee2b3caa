// SPDX-License-Identifier: Apache-2.0
// Keeps synchronous materialized views current: a load hands each partition's new base rows to
// the deriver, which runs the view's query over just those rows and returns the index's rows.
#pragma once

#include "sql/session.hh"
#include "storage/load_writer.hh"

namespace tv::sql {

/// The deriver loads pass to storage::load_writer. The view's query is planned per call over
/// the rows handed in (the view's aggregation runs per load; reads merge the rest by key).
storage::index_deriver make_index_deriver(const session& s);

}  // namespace tv::sql
