#include "voice/sip_directory.hpp"

#include "core/log.hpp"

namespace sb::voice {

SipDirectory::SipDirectory(store::Store& store, std::string realm)
    : store_(store), realm_(std::move(realm)) {}

std::optional<sip::DomainRef> SipDirectory::domain(std::string_view host) {
  auto found = store_.find_sip_domain_by_name(host);
  if (!found) {
    spdlog::error("sip: looking up domain {} failed: {}", host, found.error().message);
    return std::nullopt;
  }
  if (!found->has_value()) return std::nullopt;
  const store::SipDomain& d = **found;
  auto account = store_.find_account(d.account_sid);
  if (!account || !account->has_value() || (*account)->status != "active") return std::nullopt;
  return sip::DomainRef{d.sid, d.domain_name, d.account_sid, d.sip_registration};
}

std::optional<sip::DigestSecret> SipDirectory::user(const sip::DomainRef& domain, Purpose purpose,
                                                    std::string_view username) {
  const auto kind = purpose == Purpose::kRegister ? store::MappingKind::kRegistrations
                                                  : store::MappingKind::kCalls;
  auto found = store_.find_domain_user(domain.key, kind, username);
  if (!found) {
    spdlog::error("sip: looking up a user of {} failed: {}", domain.name, found.error().message);
    return std::nullopt;
  }
  if (!found->has_value()) return std::nullopt;
  const store::SipCredential& c = **found;
  if (c.realm != realm_) {
    spdlog::warn("sip: credential {} was set for realm '{}', not '{}': set its password again",
                 c.sid, c.realm, realm_);
    return std::nullopt;
  }
  return sip::DigestSecret{c.ha1_md5, c.ha1_sha256};
}

std::vector<sip::DomainRef> SipDirectory::domains(const std::string& account_sid) {
  std::vector<sip::DomainRef> out;
  store::PageRequest page;
  page.limit = 100;
  for (;;) {
    auto rows = store_.list_sip_domains({account_sid, {}, {}}, page);
    if (!rows) {
      spdlog::error("sip: listing the domains of {} failed: {}", account_sid, rows.error().message);
      return out;
    }
    for (const auto& d : rows->items) {
      out.push_back({d.sid, d.domain_name, d.account_sid, d.sip_registration});
      page.after_id = d.id;
    }
    if (!rows->has_more) return out;
  }
}

}  // namespace sb::voice
