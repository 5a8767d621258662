// FakeDirectory (sip::Directory): SIP domains and their users held in maps. A test adds domains
// with add_domain() and users with add_user(domain, purpose, name, password); the passwords are
// kept as their digest secrets under `realm`, as the store keeps them. Counts lookups.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "sip/registrar.hpp"

namespace sb::testing {

class FakeDirectory final : public sip::Directory {
 public:
  explicit FakeDirectory(std::string realm = "switchboard") : realm_(std::move(realm)) {}

  void add_domain(const std::string& name, bool registration = true,
                  const std::string& account = "AC1") {
    domains_[name] = sip::DomainRef{"SD" + name, name, account, registration};
  }
  void add_user(const std::string& domain, Purpose purpose, const std::string& name,
                const std::string& password) {
    users_[{domain, purpose, name}] = sip::DigestSecret::from_password(name, realm_, password);
  }
  void remove_user(const std::string& domain, Purpose purpose, const std::string& name) {
    users_.erase({domain, purpose, name});
  }

  std::optional<sip::DomainRef> domain(std::string_view host) override {
    ++domain_lookups;
    auto it = domains_.find(std::string(host));
    if (it == domains_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<sip::DigestSecret> user(const sip::DomainRef& d, Purpose purpose,
                                        std::string_view name) override {
    ++user_lookups;
    auto it = users_.find({d.name, purpose, std::string(name)});
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }

  int domain_lookups = 0;
  int user_lookups = 0;

 private:
  std::string realm_;
  std::map<std::string, sip::DomainRef> domains_;
  std::map<std::tuple<std::string, Purpose, std::string>, sip::DigestSecret> users_;
};

}  // namespace sb::testing
