#!/usr/bin/python3
"""A SAML IdP on pysaml2 (Debian's python3-pysaml2, signing with xmlsec1) for Gatehouse's
independent-IdP tests: saml2.server.Server parses the AuthnRequest, checks it against the SP
metadata it imported, builds and signs the response. HTTP and settings: idp_http.py."""

import json
import os
import secrets

from idp_http import Refused, serve
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256


_servers = {}


def idp_server(settings, parsing_redirect=False):
    """A Server for these settings and the SP metadata files as they are now (built once: loading
    the configuration and metadata is most of what a request costs)."""
    key = (
        json.dumps(settings, sort_keys=True),
        parsing_redirect,
        tuple(os.stat(path).st_mtime_ns for path in settings["sp_metadata_files"]),
    )
    if key not in _servers:
        if len(_servers) >= 4:  # only the latest settings matter
            _servers.clear()
        _servers[key] = build_server(settings, parsing_redirect)
    return _servers[key]


def build_server(settings, parsing_redirect):
    signing = settings["keys"][settings["signing_key"]]
    config = IdPConfig()
    config.load(
        {
            "entityid": settings["entity_id"],
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "crypto_backend": "xmlsec1",
            "key_file": signing["key"],
            "cert_file": signing["cert"],
            # The rollover overlap: the next key published beside the current one.
            "additional_cert_files": [settings["keys"]["next"]["cert"]]
            if settings["publish_next_key"] and settings["signing_key"] == "current"
            else None,
            "metadata": {"local": settings["sp_metadata_files"]},
            "service": {
                "idp": {
                    "name": "pysaml2 test IdP",
                    "endpoints": {
                        "single_sign_on_service": [(settings["origin"] + "/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    # Published as WantAuthnRequestsSigned. pysaml2 7.0's request parser, told to
                    # want signed requests, demands an enveloped XML signature even for the
                    # HTTP-Redirect binding, whose signature is in the query (saml-bindings
                    # 3.4.4.1): that one is checked by its verify_redirect_signature instead.
                    "want_authn_requests_signed": settings["require_signed_requests"] and not parsing_redirect,
                    "policy": {"default": {"lifetime": {"minutes": 5}}},
                }
            },
        }
    )
    return Server(config=config)


class Pysaml2Backend:
    def metadata(self, settings):
        return str(entity_descriptor(idp_server(settings).config))

    def authn_request(self, settings, query, raw_query):
        server = idp_server(settings, parsing_redirect=True)
        request = server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        if request is None:
            raise Refused("the AuthnRequest was refused")
        message = request.message
        if settings["require_signed_requests"]:
            # saml-bindings 3.4.4.1: the signature covers SAMLRequest, RelayState and SigAlg; it must
            # verify with a signing key of the SP metadata this IdP imported.
            if "Signature" not in query or "SigAlg" not in query:
                raise Refused("the AuthnRequest is not signed")
            certificates = server.metadata.certs(message.issuer.text, "spsso", "signing")
            if not any(
                verify_redirect_signature(query, server.sec.sec_backend, cert=certificate)
                for certificate in certificates
            ):
                raise Refused("the AuthnRequest signature does not verify")
        # The ACS URL the request names must be one of the SP metadata's (pysaml2 checks).
        arguments = server.response_args(message, [BINDING_HTTP_POST])
        return {
            "in_response_to": arguments["in_response_to"],
            "destination": arguments["destination"],
            "sp_entity_id": arguments["sp_entity_id"],
            "relay_state": query.get("RelayState", ""),
        }

    def unsolicited(self, settings, sp_entity_id, relay_state):
        locations = idp_server(settings).metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)
        if not locations:
            raise Refused("unknown service provider %r" % sp_entity_id)
        return {
            "in_response_to": None,
            "destination": locations[0]["location"],
            "sp_entity_id": sp_entity_id,
            "relay_state": relay_state,
        }

    def respond(self, settings, signin, email, user):
        server = idp_server(settings)
        response = server.create_authn_response(
            # pysaml2's attribute converters send these as urn:oid:2.5.4.42 / 2.5.4.4 /
            # 0.9.2342.19200300.100.1.3 with NameFormat uri (saml-profiles 8.2, its default).
            identity={"givenName": [user["firstName"]], "sn": [user["lastName"]], "mail": [email]},
            in_response_to=signin["in_response_to"],
            destination=signin["destination"],
            sp_entity_id=signin["sp_entity_id"],
            name_id=saml.NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email)
            if settings["name_id"] == "email"
            else saml.NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16)),
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": settings["entity_id"]},
            sign_response=settings["signing"] in ("response", "both"),
            sign_assertion=settings["signing"] in ("assertion", "both"),
            sign_alg=SIG_RSA_SHA1 if settings["hash"] == "sha1" else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if settings["hash"] == "sha1" else DIGEST_SHA256,
        )
        http_args = server.apply_binding(
            BINDING_HTTP_POST, str(response), signin["destination"], signin["relay_state"], response=True
        )
        return http_args["data"]


if __name__ == "__main__":
    serve(Pysaml2Backend())
