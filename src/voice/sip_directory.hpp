// SIP domains and their users, for the SIP stack (sip::Directory): which domain a request is
// addressed to, and the digest secrets of the users its credential lists allow to register or
// to call. Read from the store on the SIP thread (short indexed reads); the REST API's
// SIP/Domains and SIP/CredentialLists writes are seen at once.
#pragma once

#include <string>
#include <vector>

#include "sip/registrar.hpp"
#include "store/store.hpp"

namespace sb::voice {

class SipDirectory final : public sip::Directory {
 public:
  // `realm`: the digest realm the UA challenges with; credentials hashed under another realm
  // (the configuration changed) cannot match and are treated as absent.
  SipDirectory(store::Store& store, std::string realm);

  std::optional<sip::DomainRef> domain(std::string_view host) override;
  std::optional<sip::DigestSecret> user(const sip::DomainRef& domain, Purpose purpose,
                                        std::string_view username) override;
  // `account_sid`'s domains ("client:alice" rings alice in each of them).
  std::vector<sip::DomainRef> domains(const std::string& account_sid);

 private:
  store::Store& store_;
  std::string realm_;
};

// The address of record of `user` in `domain` ("alice@office.example.com"), as registered.
inline std::string address_of_record(std::string_view user, std::string_view domain) {
  return std::string(user) + "@" + std::string(domain);
}

}  // namespace sb::voice
