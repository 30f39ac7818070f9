/* request: the provisioning request handler (MHD access handler). */
#ifndef SPAPROV_REQUEST_H
#define SPAPROV_REQUEST_H

#include <microhttpd.h>

/* The limits on a request are per listener: max_url_length, max_headers,
 * max_body_size and max_header_size in struct conf_listener. */

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in; cls is the
 * listener.  Returns the request's state (MHD's *req_cls). */
void *request_start(void *cls, const char *uri,
		    struct MHD_Connection *connection);

enum MHD_Result request_handle(void *cls, struct MHD_Connection *connection,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls);

void request_completed(void *cls, struct MHD_Connection *connection,
		       void **req_cls, enum MHD_RequestTerminationCode toe);

#endif
