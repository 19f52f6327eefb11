#!/usr/bin/python3
"""A SAML IdP on Lasso (Debian's python3-lasso: Entr'ouvert's C library on libxml2 and libxmlsec1)
for Gatehouse's independent-IdP tests: lasso.Login parses and checks the AuthnRequest against the
SP metadata it imported, builds and signs the response. HTTP and settings: idp_http.py.

Lasso always signs the assertion it builds (lasso_saml20_login_build_assertion sets the signature
up unconditionally); the signature hint decides whether the Response is signed too. So this IdP
offers "assertion" and "both", not "response"."""

import datetime
import secrets

import lasso
from idp_http import Refused, post_form, serve

EMAIL = lasso.SAML2_NAME_IDENTIFIER_FORMAT_EMAIL


def certificate_base64(path):
    with open(path, encoding="ascii") as file:
        return "".join(line for line in file.read().splitlines() if "CERTIFICATE" not in line)


def idp_metadata(settings):
    """Lasso reads its own metadata but does not write it: this is the IdP's metadata."""
    published = [settings["keys"][settings["signing_key"]]["cert"]]
    if settings["publish_next_key"] and settings["signing_key"] == "current":
        published.append(settings["keys"]["next"]["cert"])
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" % certificate_base64(path)
        for path in published
    )
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s">'
        '<md:IDPSSODescriptor WantAuthnRequestsSigned="%s" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s'
        "<md:NameIDFormat>%s</md:NameIDFormat>"
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
        % (
            settings["entity_id"],
            "true" if settings["require_signed_requests"] else "false",
            keys,
            EMAIL,
            settings["origin"] + "/sso/redirect",
        )
    )


def lasso_server(settings):
    signing = settings["keys"][settings["signing_key"]]
    with open(signing["key"], encoding="ascii") as key, open(signing["cert"], encoding="ascii") as cert:
        server = lasso.Server.newFromBuffers(idp_metadata(settings), key.read(), None, cert.read())
    server.signatureMethod = (
        lasso.SIGNATURE_METHOD_RSA_SHA1 if settings["hash"] == "sha1" else lasso.SIGNATURE_METHOD_RSA_SHA256
    )
    for path in settings["sp_metadata_files"]:
        with open(path, encoding="utf-8") as metadata:
            server.addProviderFromBuffer(lasso.PROVIDER_ROLE_SP, metadata.read())
    return server


def attribute(name, value):
    # The MACE-Dir attribute names with NameFormat uri (saml-profiles 8.2.2 / MACE-Dir SAML profile).
    text = lasso.MiscTextNode.newWithString(value)
    text.textChild = True  # a text node, not an element named by the string
    attribute_value = lasso.Saml2AttributeValue()
    attribute_value.any = (text,)
    node = lasso.Saml2Attribute()
    node.name = name
    node.nameFormat = lasso.SAML2_ATTRIBUTE_NAME_FORMAT_URI
    node.attributeValue = (attribute_value,)
    return node


def timestamp(delta_minutes=0):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=delta_minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class LassoBackend:
    def metadata(self, settings):
        return idp_metadata(settings)

    def authn_request(self, settings, query, raw_query):
        if settings["signing"] == "response":
            raise Refused("Lasso always signs the assertion")
        login = lasso.Login(lasso_server(settings))
        if settings["require_signed_requests"]:
            # The redirect binding's signature (saml-bindings 3.4.4.1), verified with a key of the SP
            # metadata this IdP imported.
            login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        try:
            login.processAuthnRequestMsg(raw_query)
        except lasso.Error as error:
            raise Refused("Lasso refused the AuthnRequest: %s" % error)
        return {"login": login}

    def unsolicited(self, settings, sp_entity_id, relay_state):
        login = lasso.Login(lasso_server(settings))
        try:
            login.initIdpInitiatedAuthnRequest(sp_entity_id)
        except lasso.Error as error:
            raise Refused("unknown service provider %r: %s" % (sp_entity_id, error))
        login.request.nameIdPolicy.format = EMAIL
        login.request.nameIdPolicy.allowCreate = True
        login.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
        login.processAuthnRequestMsg(None)
        login.msgRelayState = relay_state or None
        return {"login": login}

    def respond(self, settings, signin, email, user):
        login = signin["login"]
        login.validateRequestMsg(True, True)
        login.setSignatureHint(
            lasso.PROFILE_SIGNATURE_HINT_FORCE if settings["signing"] == "both" else lasso.PROFILE_SIGNATURE_HINT_FORBID
        )
        login.buildAssertion(
            lasso.SAML2_AUTHN_CONTEXT_PASSWORD_PROTECTED_TRANSPORT, timestamp(), None, timestamp(-1), timestamp(5)
        )
        if settings["name_id"] == "email":
            login.assertion.subject.nameID.format = EMAIL
            login.assertion.subject.nameID.content = email
        else:
            login.assertion.subject.nameID.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_TRANSIENT
            login.assertion.subject.nameID.content = secrets.token_hex(16)
        statement = lasso.Saml2AttributeStatement()
        statement.attribute = (
            attribute("urn:mace:dir:attribute-def:givenName", user["firstName"]),
            attribute("urn:mace:dir:attribute-def:sn", user["lastName"]),
            attribute("urn:mace:dir:attribute-def:mail", email),
        )
        login.assertion.attributeStatement = (statement,)
        login.buildAuthnResponseMsg()
        return post_form(login.msgUrl, {"SAMLResponse": login.msgBody, "RelayState": login.msgRelayState or ""})


if __name__ == "__main__":
    serve(LassoBackend())
