package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// identity is one client of the API server: its certificate's subject is how
// the authorizer (Node,RBAC) sees it.
type identity struct {
	file   string
	user   string
	groups []string
}

var identities = []identity{
	{file: "admin", user: "shoal-admin", groups: []string{"system:masters"}},
	{file: "kube-controller-manager", user: "system:kube-controller-manager"},
	{file: "kube-scheduler", user: "system:kube-scheduler"},
	// kwok acts as the kubelet of every fake node and updates any pod's status.
	{file: "kwok", user: "kwok", groups: []string{"system:masters"}},
}

// runCerts writes, under --dir, a CA, the API server's serving certificate, a
// client certificate and kubeconfig per identity, and the service-account key pair.
func runCerts(args []string) int {
	flags := flag.NewFlagSet("certs", flag.ContinueOnError)
	dir := flags.String("dir", "", "directory to write into (created)")
	server := flags.String("server", "", "API server URL for the kubeconfigs, e.g. https://127.0.0.1:6443")
	cluster := flags.String("cluster", "local", "cluster name used in the kubeconfigs")
	serviceIP := flags.String("service-ip", "10.0.0.1", "first IP of the service CIDR (the kubernetes Service)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *server == "" {
		fmt.Fprintln(os.Stderr, "k8s-local certs: --dir and --server are required")
		return 2
	}
	if err := writeCerts(*dir, *server, *cluster, net.ParseIP(*serviceIP)); err != nil {
		fmt.Fprintf(os.Stderr, "k8s-local certs: %v\n", err)
		return 1
	}
	return 0
}

func writeCerts(dir, server, cluster string, serviceIP net.IP) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "shoal-local-ca-" + cluster},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	caPEM := pemBlock("CERTIFICATE", caDER)
	if err := writePair(dir, "ca", caDER, caKey); err != nil {
		return err
	}

	issue := func(name string, subject pkix.Name, usage x509.ExtKeyUsage, ips []net.IP, dns []string) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: serial(),
			Subject:      subject,
			NotBefore:    now,
			NotAfter:     now.Add(2 * 365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     dns,
		}, ca, key.Public(), caKey)
		if err != nil {
			return nil, nil, err
		}
		return der, key, writePair(dir, name, der, key)
	}

	if _, _, err := issue("apiserver", pkix.Name{CommonName: "kube-apiserver"}, x509.ExtKeyUsageServerAuth,
		[]net.IP{net.IPv4(127, 0, 0, 1), serviceIP},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	); err != nil {
		return err
	}
	for _, id := range identities {
		der, key, err := issue(id.file, pkix.Name{CommonName: id.user, Organization: id.groups}, x509.ExtKeyUsageClientAuth, nil, nil)
		if err != nil {
			return err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		config := clientcmdapi.NewConfig()
		config.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
		config.AuthInfos[id.user] = &clientcmdapi.AuthInfo{
			ClientCertificateData: pemBlock("CERTIFICATE", der),
			ClientKeyData:         pemBlock("PRIVATE KEY", keyDER),
		}
		config.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: id.user}
		config.CurrentContext = cluster
		if err := clientcmd.WriteToFile(*config, filepath.Join(dir, id.file+".kubeconfig")); err != nil {
			return err
		}
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	saKeyDER, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		return err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "service-account.key"), pemBlock("PRIVATE KEY", saKeyDER), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "service-account.pub"), pemBlock("PUBLIC KEY", saPubDER), 0o644)
}

func writePair(dir, name string, certDER []byte, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pemBlock("CERTIFICATE", certDER), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), pemBlock("PRIVATE KEY", keyDER), 0o600)
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}
