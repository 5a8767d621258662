// Awaiting a write: the coroutine suspends until the store's writer has committed `mutation`
// (durably) and resumes on its own executor with the outcome.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "store/store.hpp"

namespace sb::store {

// `mutation` is moved from.
boost::asio::awaitable<Status> commit(Store& store, Mutation& mutation);

}  // namespace sb::store
