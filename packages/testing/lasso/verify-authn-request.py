"""Lasso (Entr'ouvert's SAML library on libxmlsec1) acting as the IdP: does it accept this
HTTP-Redirect AuthnRequest, whose signature it must verify with the SP metadata's signing key?

stdin: JSON {idpMetadataXml, idpKeyPem, idpCertificatePem, spMetadataXml, redirectUrl}
stdout: JSON {"accepted": bool, "issuer": str | null, "error": str | null}
"""
import json
import os
import sys
import tempfile

import lasso


def main():
    given = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix='gatehouse-lasso-') as directory:
        def file(name, content):
            path = os.path.join(directory, name)
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write(content)
            return path

        server = lasso.Server(
            file('idp.xml', given['idpMetadataXml']),
            file('idp-key.pem', given['idpKeyPem']),
            None,
            file('idp-certificate.pem', given['idpCertificatePem']),
        )
        server.addProvider(lasso.PROVIDER_ROLE_SP, file('sp.xml', given['spMetadataXml']))
        login = lasso.Login(server)
        # FORCE: an unsigned request, or one whose signature does not verify, is refused.
        login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        try:
            login.processAuthnRequestMsg(given['redirectUrl'].split('?', 1)[1])
            result = {'accepted': True, 'issuer': login.remoteProviderId, 'error': None}
        except lasso.Error as error:
            result = {'accepted': False, 'issuer': None, 'error': f'{type(error).__name__}: {error}'}
    json.dump(result, sys.stdout)


main()
